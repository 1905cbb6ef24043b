package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/domainprobe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// domainHead is the heading row of a domain's health monitors on a board
// page: the worst of their states, their counts, and their findings.
type domainHead struct {
	ID        string // the heading row's element id
	Domain    string
	State     state.State
	StateCell template.HTML
	N         int
	Summary   string   // "1 down, 4 up"
	Findings  []string // "SPF: the sentence", of those that did not pass
	Members   string   // the member rows' element ids, for aria-controls
	Link      string   // the board filtered to the domain
}

// Title is the findings one a line: the heading's hover text.
func (h *domainHead) Title() string { return strings.Join(h.Findings, "\n") }

// domainFilter is the store's filter of the board's ?domain=, nil for none.
func domainFilter(d string) *store.DomainFilter {
	if d == "" {
		return nil
	}
	f := &store.DomainFilter{Domain: d, OwnTypes: domainprobe.RecordTypes, Registered: domainprobe.Registered(d)}
	// A host's monitors without a domain belong to its registered domain
	// (or to its address): never to a host name.
	if domainprobe.DomainOf(domainprobe.HostTypes[0], "", d) == d {
		f.HostTypes = domainprobe.HostTypes
	}
	return f
}

// domainsOf sets the domain of each row of a domain-health type: its
// spec's "domain", else its device's address (read once a device, for
// those rows only).
func (s *Server) domainsOf(ctx context.Context, rows []boardRow, ms []store.Monitor) error {
	addrs := map[int64]string{}
	for i := range rows {
		m := &ms[i]
		if !slices.Contains(domainprobe.RecordTypes, m.Type) && !slices.Contains(domainprobe.HostTypes, m.Type) {
			continue
		}
		var spec struct {
			Domain string `json:"domain"`
		}
		json.Unmarshal(m.Spec, &spec) // a spec without a domain: the address's
		if spec.Domain == "" {
			if _, ok := addrs[m.DeviceID]; !ok {
				dev, err := s.Store.Device(ctx, m.DeviceID)
				if err != nil {
					return err
				}
				addrs[m.DeviceID] = dev.Address
			}
		}
		rows[i].Domain = domainprobe.DomainOf(m.Type, spec.Domain, addrs[m.DeviceID])
	}
	return nil
}

// findingsOf are the sentences of a domain-health test's findings (its
// detail "findings") other than the one its error tells.
func findingsOf(res *probe.Result) []string {
	list, _ := res.Details["findings"].([]any)
	var out []string
	for _, f := range list {
		if m, ok := f.(map[string]any); ok && m["message"] != res.Error.Message {
			out = append(out, fmt.Sprint(m["code"])+": "+fmt.Sprint(m["message"]))
		}
	}
	return out
}

// byDomain puts the rows of a domain with two or more on the page
// together, under a heading, where the first (the worst) of them was; the
// other rows keep their places.
func (s *Server) byDomain(rows []boardRow) []boardRow {
	n := map[string]int{}
	for _, r := range rows {
		if r.Domain != "" {
			n[r.Domain]++
		}
	}
	out := make([]boardRow, 0, len(rows))
	done := map[string]bool{}
	for _, r := range rows {
		switch {
		case n[r.Domain] < 2:
			out = append(out, r)
			continue
		case done[r.Domain]:
			continue
		}
		done[r.Domain] = true
		h := &domainHead{ID: "dg-" + strconv.FormatInt(r.ID, 10), Domain: r.Domain, State: r.State,
			Link: "/?" + url.Values{"domain": {r.Domain}}.Encode()}
		var members []boardRow
		for _, m := range rows {
			if m.Domain != r.Domain {
				continue
			}
			m.Member = h.ID
			if store.Rank(m.State) < store.Rank(h.State) {
				h.State = m.State
			}
			if m.ErrCode != "" {
				h.Findings = append(h.Findings, m.Name+": "+m.ErrMsg)
			}
			h.Members = strings.TrimPrefix(h.Members+" m-"+strconv.FormatInt(m.ID, 10), " ")
			members = append(members, m)
		}
		h.N, h.Summary, h.StateCell = len(members), summary(members), s.stateCells[h.State]
		members[0].Head = h
		out = append(out, members...)
	}
	return out
}
