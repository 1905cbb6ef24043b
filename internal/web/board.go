package web

import (
	"context"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/domainprobe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/report"
	"github.com/mailmon/mailmon/internal/schedule"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// PageSize is how many monitors a board or list page shows.
const PageSize = 50

// Beats is how many of its last results a board row shows as bars.
const Beats = store.RecentSize

type boardRow struct {
	ID, DeviceID       int64
	Name, Device, Type string
	State              state.State
	StateCell          template.HTML // the "state" template of State, made once
	RTT                string        // "–" without one
	ErrCode, ErrMsg    string
	LastTest           string
	Unknown            []string       // K-of-N locations that do not count now (health.go)
	Beats              []store.Result // the last results, newest first
	Up24, Up30         string         // uptime over 24 hours and 30 days, "–" without tests
	Cells              template.HTML  // the cells from the bars to the last test (cells)
	Acked              string         // who acknowledged the current outage
	MaintUntil         string         // the end of maintenance begun by hand (maintenance.go)
	Findings           []string       // a domain-health test's findings besides its error's (domaingroup.go)
	Domain             string         // the domain of a domain-health monitor, else ""
	Head               *domainHead    // the heading of its domain's rows, on the first of them
	Member             string         // the heading's id, on each of its domain's rows
}

// group is the rows of one device (or all rows, ungrouped).
type group struct {
	DeviceID int64
	Device   string
	Summary  string // its rows' states: "1 down, 3 up"
	Rows     []boardRow
}

// stateCount is one of the board's counts: a link that filters.
type stateCount struct {
	State   state.State
	N       int
	Link    string
	Current bool
}

type boardData struct {
	Rows               []boardRow
	Groups             []group
	Grouped            bool
	GroupLink          string // the board grouped by device, or not
	Counts             []stateCount
	All                int    // monitors of the counts (the state filter aside)
	AllLink            string // the counts' "all" link
	Total, Page, Pages int
	Q, State, Type     string
	Domain             string // the domain whose health monitors are shown, "" for all monitors
	Device             int64
	States             []state.State
	Types              []string
	Prev, Next         string
}

var allStates = []state.State{state.Up, state.Warn, state.Down, state.Lost, state.Pending, state.Disabled, state.Maintenance}

// worstFirst is the order of the board's counts.
var worstFirst = []state.State{state.Down, state.Lost, state.Warn, state.Up, state.Maintenance, state.Pending, state.Disabled}

// monitorRows is one page of monitors with their states, worst first: the
// store pages, filters and orders, so the cost of a page does not grow
// with the number of monitors.
func (s *Server) monitorRows(ctx context.Context, q url.Values, device int64, base string) (*boardData, error) {
	d := &boardData{Q: q.Get("q"), State: q.Get("state"), Type: q.Get("type"), Device: device, States: allStates, Types: kinds.Names(),
		Grouped: q.Get("group") == "device" && device == 0, Domain: domainprobe.Normal(q.Get("domain"))}
	if d.State != "" && !slices.Contains(allStates, state.State(d.State)) {
		d.State = ""
	}
	if !slices.Contains(d.Types, d.Type) {
		d.Type = ""
	}
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = max(d.Page, 1)
	f := store.MonitorFilter{Page: store.Page{Limit: PageSize, Offset: (d.Page - 1) * PageSize}, DeviceID: device,
		State: state.State(d.State), Type: d.Type, Search: d.Q, Domain: domainFilter(d.Domain), Order: store.WorstFirst}
	if d.Grouped {
		f.Order = store.DeviceWorstFirst
	}
	ms, total, err := s.Store.Monitors(ctx, f)
	if err != nil {
		return nil, err
	}
	d.Total, d.Pages = total, max((total+PageSize-1)/PageSize, 1)
	maints, _ := s.Store.MaintenancesNow(ctx, s.Now()) // none shown if the store cannot say
	link := func(set map[string]string) string {
		v := url.Values{}
		for _, k := range []string{"q", "state", "type", "group", "domain"} {
			if x := q.Get(k); x != "" {
				v.Set(k, x)
			}
		}
		if base == "/" && device != 0 {
			v.Set("device", strconv.FormatInt(device, 10))
		}
		for k, x := range set {
			if x == "" {
				v.Del(k)
			} else {
				v.Set(k, x)
			}
		}
		if len(v) == 0 {
			return base
		}
		return base + "?" + v.Encode()
	}
	counts, err := s.Store.StateCounts(ctx, f)
	if err != nil {
		return nil, err
	}
	for _, st := range worstFirst {
		d.All += counts[st]
		if counts[st] > 0 || st == state.Down || st == state.Up {
			d.Counts = append(d.Counts, stateCount{State: st, N: counts[st], Link: link(map[string]string{"state": string(st), "page": ""}), Current: d.State == string(st)})
		}
	}
	d.AllLink = link(map[string]string{"state": "", "page": ""})
	if device == 0 {
		g := "device"
		if d.Grouped {
			g = ""
		}
		d.GroupLink = link(map[string]string{"group": g, "page": ""})
	}
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	now := s.Now()
	day, month, err := report.Uptimes(ctx, s.Store, ids, now)
	if err != nil {
		return nil, err
	}
	// The statuses bring their last results and acknowledgements: one
	// query for the page's rows.
	statuses, err := s.Store.BoardStatuses(ctx, ids)
	if err != nil {
		return nil, err
	}
	var unkept []int64 // statuses from before the store kept results
	for id, st := range statuses {
		if !st.RecentKnown {
			unkept = append(unkept, id)
		}
	}
	recent, err := s.Store.RecentResults(ctx, unkept, Beats)
	if err != nil {
		return nil, err
	}
	devIDs := make([]int64, 0, len(ms))
	for _, m := range ms {
		if len(devIDs) == 0 || devIDs[len(devIDs)-1] != m.DeviceID {
			devIDs = append(devIDs, m.DeviceID)
		}
	}
	devices, err := s.Store.DeviceNames(ctx, devIDs)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		r := boardRow{ID: m.ID, DeviceID: m.DeviceID, Name: m.Name, Type: m.Type, RTT: "–", LastTest: when(time.Time{})}
		r.Device = devices[m.DeviceID]
		var shown state.State
		r.MaintUntil = maintUntil(schedule.Covering(maints, m.ID, m.DeviceID))
		if st := statuses[m.ID]; st != nil {
			shown, r.LastTest = st.Status.Status.State, when(st.LastTest)
			if a := st.Ack; a != nil && a.Covers(st.Status.Status) {
				r.Acked = a.By
			}
			if st.RecentKnown {
				recent[m.ID] = st.Recent
			}
			if res := st.LastResult; res != nil {
				// A failed test's time is its timeout, not the server's speed.
				if res.Status != probe.StatusDown {
					r.RTT = fmtMS(res.RTT)
				}
				if res.Error != nil {
					r.ErrCode, r.ErrMsg = string(res.Error.Code), res.Error.Message
					r.Findings = findingsOf(res)
				}
			}
		}
		r.State = store.Shown(shown, m.Enabled)
		r.StateCell = s.stateCells[r.State]
		r.Up24, r.Up30 = uptime(day[m.ID]), uptime(month[m.ID])
		r.Beats = recent[m.ID]
		r.Cells = r.cells()
		r.Unknown = s.unknownLocations(ctx, &m)
		d.Rows = append(d.Rows, r)
	}
	if err := s.domainsOf(ctx, d.Rows, ms); err != nil {
		return nil, err
	}
	d.Groups = groups(d.Rows, d.Grouped)
	for i := range d.Groups {
		d.Groups[i].Rows = s.byDomain(d.Groups[i].Rows)
	}
	if d.Page > 1 {
		d.Prev = link(map[string]string{"page": strconv.Itoa(d.Page - 1)})
	}
	if d.Page < d.Pages {
		d.Next = link(map[string]string{"page": strconv.Itoa(d.Page + 1)})
	}
	return d, nil
}

// stateCells are the "state" template (layout.html) of each state, made
// once: the board shows one a row, and a template call a row was a tenth
// of its page.
func stateCells(t *template.Template) map[state.State]template.HTML {
	out := map[state.State]template.HTML{}
	for _, st := range allStates {
		var b strings.Builder
		if err := t.ExecuteTemplate(&b, "state", st); err != nil {
			panic(err) // the templates are embedded: a test sees it
		}
		out[st] = template.HTML(b.String())
	}
	return out
}

// uptime is a share of tests passed as the board shows it.
func uptime(c store.Counts) string {
	p, ok := report.Percent(c)
	switch {
	case !ok:
		return "–"
	case p == 100:
		return "100 %"
	}
	// Never rounded up to 100: one failure shows.
	return fmt.Sprintf("%.2f %%", min(p, 99.99))
}

// cells are a row's cells from its bars to its last test. Written here
// rather than by the template: a page has 2,000 bars, and a template
// action a cell, 50 rows a page, was a fifth of the page's time. Every
// text is escaped.
func (r *boardRow) cells() template.HTML {
	buf := make([]byte, 0, 300+len(noBeats)+len(r.Beats)*70)
	buf = append(buf, `<td class="c-beats" data-label="Last tests">`...)
	buf = beats(buf, r.Beats)
	buf = append(buf, `</td>
  <td class="c-up24 num" data-label="Uptime 24 h">`...)
	buf = append(buf, html.EscapeString(r.Up24)...)
	buf = append(buf, `</td>
  <td class="c-up30 num" data-label="Uptime 30 d">`...)
	buf = append(buf, html.EscapeString(r.Up30)...)
	buf = append(buf, `</td>
  <td class="c-rtt num" data-label="rtt">`...)
	buf = append(buf, html.EscapeString(r.RTT)...)
	buf = append(buf, `</td>
  <td class="c-err" data-label="Last error">`...)
	if r.ErrCode != "" {
		buf = append(buf, `<code>`...)
		buf = append(buf, html.EscapeString(r.ErrCode)...)
		buf = append(buf, `</code> `...)
		buf = append(buf, html.EscapeString(r.ErrMsg)...)
	}
	if len(r.Findings) > 0 {
		buf = append(buf, `<ul class="findings">`...)
		for _, f := range r.Findings {
			buf = append(buf, `<li>`...)
			buf = append(buf, html.EscapeString(f)...)
			buf = append(buf, `</li>`...)
		}
		buf = append(buf, `</ul>`...)
	}
	buf = append(buf, `</td>
  <td class="c-when" data-label="Last test">`...)
	buf = append(buf, html.EscapeString(r.LastTest)...)
	buf = append(buf, `</td>`...)
	return template.HTML(buf)
}

// beats appends a monitor's last results (newest first) as bars, oldest
// first, padded at the left, with what they say for a screen reader.
func beats(buf []byte, rs []store.Result) []byte {
	rs = rs[:min(len(rs), Beats)]
	failed := 0
	for _, r := range rs {
		if r.Status == probe.StatusDown {
			failed++
		}
	}
	label := "no test yet"
	if len(rs) > 0 {
		label = fmt.Sprintf("last %d tests: %d failed", len(rs), failed)
	}
	buf = append(buf, `<span class="beats" role="img" aria-label="`...)
	buf = append(buf, label...)
	buf = append(buf, `">`...)
	buf = append(buf, noBeats[:(Beats-len(rs))*len(noBeat)]...)
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i]
		// The title by hand, not with when and fmtMS: 2,000 a page.
		buf = append(buf, `<span class="beat b-`...)
		buf = append(buf, html.EscapeString(string(r.Status))...)
		buf = append(buf, `" title="`...)
		buf = r.Time.UTC().AppendFormat(buf, "2006-01-02 15:04:05Z")
		switch r.Status {
		case probe.StatusDown:
			buf = append(buf, " · failed"...)
		default:
			buf = append(buf, " · "...)
			buf = strconv.AppendFloat(buf, float64(r.RTT)/float64(time.Millisecond), 'f', 1, 64)
			buf = append(buf, " ms"...)
			if r.Status == probe.StatusWarn {
				buf = append(buf, " · warn"...)
			}
		}
		if r.Code != "" && r.Status != probe.StatusUp {
			buf = append(buf, ": "...)
			buf = append(buf, html.EscapeString(string(r.Code))...)
		}
		buf = append(buf, `"></span>`...)
	}
	return append(buf, `</span>`...)
}

// noBeats is the bars of a row without tests; a row with fewer than Beats
// tests starts with some of them.
const noBeat = `<span class="beat b-none"></span>`

var noBeats = strings.Repeat(noBeat, Beats)

// groups are the rows by device (in their order), or all in one.
func groups(rows []boardRow, byDevice bool) []group {
	if !byDevice {
		return []group{{Rows: rows}}
	}
	var out []group
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].DeviceID != r.DeviceID {
			out = append(out, group{DeviceID: r.DeviceID, Device: r.Device})
		}
		g := &out[len(out)-1]
		g.Rows = append(g.Rows, r)
	}
	for i := range out {
		out[i].Summary = summary(out[i].Rows)
	}
	return out
}

// summary is rows' states, worst first: "1 down, 3 up".
func summary(rows []boardRow) string {
	n := map[state.State]int{}
	for _, r := range rows {
		n[r.State]++
	}
	var out []string
	for _, st := range worstFirst {
		if n[st] > 0 {
			out = append(out, fmt.Sprintf("%d %s", n[st], st))
		}
	}
	return strings.Join(out, ", ")
}

func (s *Server) board(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	device, _ := strconv.ParseInt(q.Get("device"), 10, 64)
	d, err := s.monitorRows(r.Context(), q, device, "/")
	if err != nil {
		return err
	}
	s.render(w, c, http.StatusOK, "board", "Status", d)
	return nil
}
