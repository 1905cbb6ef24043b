package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/web"
)

// serveDomain is the UI over a domain's health monitors on its MX host
// (SPF failing with two findings, DMARC warning, the rest passing) beside
// the host's SMTP monitor.
func serveDomain(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "domain.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d := &store.Device{Name: "mx1.example.org", Address: "mx1.example.org"}
	must(t, st.PutDevice(ctx, d))
	now := time.Now().UTC()
	for _, m := range []struct {
		name, typ, spec string
		st              state.State
		err             *probe.Error
		findings        []any
	}{
		{"SMTP", "smtp", `{"port":25}`, state.Up, nil, nil},
		{"SPF", "spf", `{"domain":"example.org"}`, state.Down,
			&probe.Error{Code: "record_invalid", Message: "The SPF record needs 12 DNS lookups; receivers stop at 10: flatten an include."},
			[]any{map[string]any{"code": "record_invalid", "down": true, "message": "The SPF record needs 12 DNS lookups; receivers stop at 10: flatten an include."},
				map[string]any{"code": "policy_mismatch", "down": false, "message": "The record ends in ?all: forged mail is not refused."}}},
		{"DMARC", "dmarc", `{"domain":"example.org"}`, state.Warn,
			&probe.Error{Code: "policy_mismatch", Message: "The policy is p=none: receivers deliver mail that fails DMARC."}, nil},
		{"TLS-RPT", "tls-rpt", `{"domain":"example.org"}`, state.Up, nil, nil},
		{"Blocklists", "dnsbl", `{}`, state.Up, nil, nil},
	} {
		sm := &store.Monitor{DeviceID: d.ID, Name: m.name, Type: m.typ, Enabled: true, Spec: json.RawMessage(m.spec)}
		must(t, st.PutMonitor(ctx, sm))
		res := &probe.Result{Type: m.typ, Status: probe.StatusUp, Started: now, RTT: 4 * time.Millisecond, Error: m.err}
		switch m.st {
		case state.Down:
			res.Status = probe.StatusDown
		case state.Warn:
			res.Status = probe.StatusWarn
		}
		if m.findings != nil {
			res.Details = map[string]any{"findings": m.findings}
		}
		must(t, st.RecordTest(ctx, store.Test{Result: store.Result{MonitorID: sm.ID, Time: now, Status: res.Status, RTT: res.RTT},
			Status: store.Status{MonitorID: sm.ID, Status: state.Status{State: m.st, Since: now}, LastResult: res, LastTest: now}}))
	}
	if _, err := web.AddUser(ctx, &catalog.Catalog{Store: st}, catalog.Operator, "admin", pagesPassword, catalog.Admin, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	w := &web.Server{Store: st, Catalog: &catalog.Catalog{Store: st}, BcryptCost: bcrypt.MinCost}
	srv := httptest.NewServer(w.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestDomainGroup: on the board and the device page a domain's health
// monitors sit folded under the domain's heading, which tells the worst
// state and the findings; the heading's button (a click, or the keyboard)
// opens them with each finding's sentence, and the page passes axe.
func TestDomainGroup(t *testing.T) {
	base := serveDomain(t)
	ctx := tab(t)
	login(t, ctx, base, "admin", pagesPassword)
	visible := `Array.from(document.querySelectorAll('tr.domain-member')).filter(r => r.getClientRects().length > 0).length`
	for _, page := range []string{"/", "/devices/1"} {
		run(t, ctx, page, chromedp.Navigate(base+page), chromedp.WaitVisible(chromedp.CSS(`tr.domain-head`)))
		head := eval[string](t, ctx, "the heading", `document.querySelector('tr.domain-head').innerText`)
		if !strings.Contains(head, "example.org") || !strings.Contains(head, "Down") || !strings.Contains(head, "1 down, 1 warn, 2 up") {
			t.Errorf("%s: the heading says %q", page, head)
		}
		if title := eval[string](t, ctx, "its hover text", `document.querySelector('tr.domain-head .c-domain').title`); !strings.Contains(title, "DMARC: The policy is p=none") {
			t.Errorf("%s: the heading's hover text %q", page, title)
		}
		// Folded at first; the SMTP row stays in sight.
		if !waitFor(t, ctx, "folded", visible+` === 0 && document.querySelector('.domain-button').getAttribute('aria-expanded') === 'false'`, 5*time.Second) {
			continue
		}
		if got := texts(t, ctx, "rows in sight", `tr.row:not([hidden]) .mname`); strings.Join(got, ",") != "SMTP" {
			t.Errorf("%s: rows in sight while folded: %q", page, got)
		}
		run(t, ctx, "open the domain", chromedp.Click(chromedp.CSS(`.domain-button`)))
		if !waitFor(t, ctx, "opened", visible+` === 4 && document.querySelector('.domain-button').getAttribute('aria-expanded') === 'true'`, 5*time.Second) {
			continue
		}
		spf := eval[string](t, ctx, "the SPF row", `Array.from(document.querySelectorAll('tr.domain-member')).find(r => r.querySelector('.mname').textContent === 'SPF').innerText`)
		for _, want := range []string{"record_invalid The SPF record needs 12 DNS lookups", "policy_mismatch: The record ends in ?all"} {
			if !strings.Contains(spf, want) {
				t.Errorf("%s: the SPF row does not show %q: %q", page, want, spf)
			}
		}
		if page == "/" {
			shoot(t, ctx, "board-domain")
		}
		for _, v := range axe(t, ctx) {
			t.Errorf("%s: %s (%s): %s\n\t%s", page, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
		}
		// The keyboard folds it again: the button takes the focus and Enter.
		run(t, ctx, "fold with the keyboard", chromedp.Focus(chromedp.CSS(`.domain-button`)), chromedp.KeyEvent("\r"))
		waitFor(t, ctx, "folded by the keyboard", visible+` === 0`, 5*time.Second)
	}
	// The heading's link filters the board to the domain.
	run(t, ctx, "the domain's link", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`tr.domain-head`)),
		chromedp.Click(chromedp.CSS(`a.domain-link`)), chromedp.WaitVisible(chromedp.CSS(`input[name="domain"][value="example.org"]`)))
	if got := eval[string](t, ctx, "the count of all", `document.querySelector('#counts a.count .n').textContent`); got != fmt.Sprint(4) {
		t.Errorf("filtered to example.org: %s monitors, want its 4", got)
	}
}
