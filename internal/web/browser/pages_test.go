package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/vault"
	"github.com/mailmon/mailmon/internal/web"
)

// pages is the web UI over a database seeded with known results (and no
// roll-up yet, as on a new install): its URL, the monitors' ids by name.
type pages struct {
	url   string
	ids   map[string]int64
	st    store.Store
	vault *vault.Vault // opens the stored secrets
}

const pagesPassword = "browser-pages-password"

// seed is one monitor's history: its state, and its tests, oldest first,
// every 3 minutes up to now ("u" up, "w" warn, "d" down, " " no test).
type seed struct {
	device, name, typ string
	enabled           bool
	state             state.State
	tests             string
	older             int // failures three hours ago, before those
}

var seeds = []seed{
	{"mail.example.test", "SMTP submission", "smtp", true, state.Up, strings.Repeat("u", 40), 0},
	{"mail.example.test", "IMAP login", "imap", true, state.Down, strings.Repeat("u", 24) + "   " + "uuu" + "dddddd", 2},
	{"mail.example.test", "POP3 login", "pop3", true, state.Lost, strings.Repeat("d", 20), 0},
	{"mail.example.test", "IMAP round trip", "imap-roundtrip", true, state.Warn, strings.Repeat("u", 30) + "w", 0},
	{"backup.example.test", "SMTP", "smtp", true, state.Up, strings.Repeat("u", 35) + "d" + "uuuu", 0},
	{"backup.example.test", "Ping", "ping", false, state.Disabled, "uuuu", 0},
	{"backup.example.test", "New IMAP", "imap", true, "", "", 0},
}

// failure is a failed test as a probe reports it.
func failure(typ string, at time.Time, code probe.Code) *probe.Result {
	return &probe.Result{Type: typ, Status: probe.StatusDown, Started: at, RTT: 10 * time.Second,
		Error:      &probe.Error{Code: code, Message: "the server rejected the credentials", Phase: "auth", Reply: "NO [AUTHENTICATIONFAILED] Authentication failed."},
		Phases:     []probe.Phase{{Name: "connect", Duration: time.Millisecond}, {Name: "auth", Duration: 9 * time.Millisecond}},
		Transcript: []string{"S: * OK IMAP ready", "C: a1 LOGIN monitor ****", "S: a1 NO [AUTHENTICATIONFAILED] Authentication failed."}}
}

func servePages(t *testing.T) *pages {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pages.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p := &pages{ids: map[string]int64{}, st: st}
	now := time.Now().UTC()
	devs := map[string]int64{}
	for _, sd := range seeds {
		if devs[sd.device] == 0 {
			d := &store.Device{Name: sd.device, Address: "127.0.0.1"}
			must(t, st.PutDevice(ctx, d))
			devs[sd.device] = d.ID
		}
		m := &store.Monitor{DeviceID: devs[sd.device], Name: sd.name, Type: sd.typ, Enabled: sd.enabled, Spec: json.RawMessage(`{"port":143,"tls":"starttls"}`)}
		must(t, st.PutMonitor(ctx, m))
		p.ids[sd.name] = m.ID
		record := func(at time.Time, c byte, last bool) {
			res := &probe.Result{Type: sd.typ, Status: probe.StatusUp, Started: at, RTT: time.Duration(8+len(sd.name)%5+int(at.Unix()/180%7)) * time.Millisecond}
			code := probe.Code("")
			switch c {
			case 'd':
				res, code = failure(sd.typ, at, "auth_failed"), "auth_failed"
				if sd.typ == "pop3" {
					res.Error, code = &probe.Error{Code: "timeout", Message: "no answer within 10s", Phase: "greeting"}, "timeout"
				}
			case 'w':
				res.Status, res.Error, code = probe.StatusWarn, &probe.Error{Code: "timeout", Message: "no answer within 10s"}, "timeout"
			}
			var detail *probe.Result
			if c != 'u' {
				detail = res
			}
			st0 := sd.state
			if !last {
				st0 = state.Up
			}
			must(t, st.RecordTest(ctx, store.Test{Result: store.Result{MonitorID: m.ID, Time: at, Status: res.Status, RTT: res.RTT, Code: code, Detail: detail},
				Status: store.Status{MonitorID: m.ID, Status: state.Status{State: st0, Since: at}, LastResult: res, LastTest: at}}))
		}
		for i := range sd.older {
			record(now.Add(-3*time.Hour-time.Duration(i)*3*time.Minute), 'd', false)
		}
		for i := range len(sd.tests) {
			if sd.tests[i] == ' ' {
				continue
			}
			record(now.Add(-time.Duration(len(sd.tests)-1-i)*3*time.Minute-time.Second), sd.tests[i], i == len(sd.tests)-1)
		}
		if sd.state != "" && sd.state != state.Up {
			must(t, st.RecordTest(ctx, store.Test{Status: store.Status{MonitorID: m.ID, Status: state.Status{State: sd.state, Since: now.Add(-10 * time.Minute)},
				LastResult: mustStatus(t, st, m.ID).LastResult, LastTest: mustStatus(t, st, m.ID).LastTest},
				Change: &store.StateChange{MonitorID: m.ID, Time: now.Add(-10 * time.Minute), From: state.Up, To: sd.state, Cause: "3 failures in a row"}}))
		}
	}
	if _, err := web.AddUser(ctx, &catalog.Catalog{Store: st}, catalog.Operator, "admin", pagesPassword, catalog.Admin, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	v, err := vault.New([]byte("browser-pages-vault-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	// Loopback, and Microsoft's token endpoint, which an OAuth monitor's
	// form names (the engine is not run: nothing is dialled).
	loopback, err := egress.Parse([]string{"127.0.0.1/32", "login.microsoftonline.com"})
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(engine.Options{Store: st, Vault: v, InstallationKey: keyfile.Key("browser-pages-installation-secret"), Egress: loopback})
	w := &web.Server{Store: st, Engine: e, Catalog: &catalog.Catalog{Store: st, Vault: v, Egress: loopback}, BcryptCost: bcrypt.MinCost}
	srv := httptest.NewServer(w.Handler())
	t.Cleanup(srv.Close)
	p.url, p.vault = srv.URL, v
	return p
}

func mustStatus(t *testing.T, st store.Store, id int64) *store.Status {
	t.Helper()
	s, err := st.Status(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// shoot writes the tab's page to $MAILMON_SCREENSHOTS/name.png (the README's
// docs/screenshots: MAILMON_SCREENSHOTS=$PWD/docs/screenshots).
func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("MAILMON_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := get(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Error(err)
	}
}

func texts(t *testing.T, ctx context.Context, what, sel string) []string {
	t.Helper()
	return eval[[]string](t, ctx, what, fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).map(e => e.textContent.trim())`, sel))
}

// TestBoard: the counts per state (links that filter), the order worst
// first, each row's bars and uptime, the groups by device that fold.
func TestBoard(t *testing.T) {
	p := servePages(t)
	ctx := tab(t)
	login(t, ctx, p.url, "admin", pagesPassword)
	run(t, ctx, "the board", chromedp.Navigate(p.url+"/"), chromedp.WaitVisible(chromedp.CSS(`#monitors`)))
	counts := map[string]string{}
	for _, c := range eval[[]string](t, ctx, "counts", `Array.from(document.querySelectorAll('#counts a.count[data-state]')).map(a => a.dataset.state + '=' + a.querySelector('.n').textContent)`) {
		k, v, _ := strings.Cut(c, "=")
		counts[k] = v
	}
	for st, want := range map[string]string{"down": "1", "lost": "1", "warn": "1", "up": "2", "pending": "1", "disabled": "1"} {
		if counts[st] != want {
			t.Errorf("count of %s: %q, want %s (all: %v)", st, counts[st], want, counts)
		}
	}
	order := texts(t, ctx, "order", `tr.row .mname`)
	want := []string{"IMAP login", "POP3 login", "IMAP round trip", "SMTP", "SMTP submission", "New IMAP", "Ping"}
	if strings.Join(order, "|") != strings.Join(want, "|") {
		t.Errorf("board order %q, want worst first %q", order, want)
	}
	row := func(name string) string { return fmt.Sprintf(`tr.row[data-id="%d"]`, p.ids[name]) }
	n := func(sel string) int {
		return eval[int](t, ctx, sel, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
	}
	if got := n(row("IMAP login") + ` .beat.b-down`); got != 8 {
		t.Errorf("IMAP login: %d red bars, want its 8 failures", got)
	}
	if got := n(row("IMAP login") + ` .beat:not(.b-none)`); got != 35 {
		t.Errorf("IMAP login: %d bars, want its 35 tests (40 shown at most)", got)
	}
	if got := n(row("SMTP submission") + ` .beat.b-up`); got != 40 {
		t.Errorf("SMTP submission: %d green bars, want 40", got)
	}
	if got := n(row("New IMAP") + ` .beat:not(.b-none)`); got != 0 {
		t.Errorf("New IMAP (never tested): %d bars", got)
	}
	last := eval[string](t, ctx, "a bar's title", `document.querySelector('`+row("IMAP login")+` .beat:last-child').title`)
	if !strings.Contains(last, "failed: auth_failed") {
		t.Errorf("the last bar's title %q does not tell the failure", last)
	}
	up := func(name, col string) string {
		return eval[string](t, ctx, "uptime", `document.querySelector('`+row(name)+` .`+col+`').textContent`)
	}
	for _, c := range []struct{ name, col, want string }{
		{"SMTP submission", "c-up24", "100 %"}, {"SMTP submission", "c-up30", "100 %"},
		{"IMAP login", "c-up24", "77.14 %"}, // 27 of 35 passed, with the 2 older failures in the day
		{"POP3 login", "c-up24", "0.00 %"}, {"New IMAP", "c-up24", "–"},
		{"SMTP", "c-up30", "97.50 %"},
	} {
		if got := up(c.name, c.col); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.name, c.col, got, c.want)
		}
	}
	shoot(t, ctx, "board")

	// The Down count filters.
	run(t, ctx, "the Down count", chromedp.Click(chromedp.CSS(`#counts a[data-state="down"]`)), chromedp.WaitVisible(chromedp.CSS(`#counts a[data-state="down"][aria-current]`)))
	if got := texts(t, ctx, "filtered", `tr.row .mname`); len(got) != 1 || got[0] != "IMAP login" {
		t.Errorf("filtered to Down: %q", got)
	}

	// Grouped by device: a group folds.
	run(t, ctx, "group by device", chromedp.Navigate(p.url+"/"), chromedp.Click(chromedp.CSS(`#group-toggle`)), chromedp.WaitVisible(chromedp.CSS(`tbody.group-head`)))
	if got := texts(t, ctx, "groups", `tbody.group-head .group-button`); len(got) != 2 || !strings.HasSuffix(got[0], "backup.example.test") {
		t.Errorf("groups %q, want backup.example.test then mail.example.test", got)
	}
	shoot(t, ctx, "board-grouped")
	run(t, ctx, "fold a group", chromedp.Click(chromedp.CSS(`tbody.group-head .group-button`)))
	if !waitFor(t, ctx, "the group folded", `document.querySelector('tbody.group-rows').getClientRects().length === 0 && document.querySelector('.group-button').getAttribute('aria-expanded') === 'false'`, 5*time.Second) {
		return
	}
	// Remembered across a reload.
	run(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`tbody.group-head`)))
	waitFor(t, ctx, "still folded", `document.querySelector('tbody.group-rows').getClientRects().length === 0`, 5*time.Second)
	run(t, ctx, "the glossary", chromedp.Navigate(p.url+"/"), chromedp.WaitVisible(chromedp.CSS(`#monitors`)), chromedp.Click(chromedp.CSS(`#glossary summary`)))
	if g := get(t, ctx, "glossary", chromedp.Text(chromedp.CSS(`#glossary`))); !strings.Contains(g, "maximum alerts") || !strings.Contains(g, "Maintenance") {
		t.Errorf("the glossary: %q", g)
	}
}

// TestMonitorPage: the period switch, failures drawn on the chart, the
// last failure open and older ones folded, newest first.
func TestMonitorPage(t *testing.T) {
	p := servePages(t)
	ctx := tab(t)
	login(t, ctx, p.url, "admin", pagesPassword)
	u := fmt.Sprintf("%s/monitors/%d", p.url, p.ids["IMAP login"])
	run(t, ctx, "the monitor's page", chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS(`#rtt-chart`)))
	marks := func() int {
		return eval[int](t, ctx, "marks", `document.querySelectorAll('#rtt-chart rect.bad[x]').length - document.querySelectorAll('#rtt-chart rect.bad[width="8"]').length`)
	}
	if got := marks(); got != 8 {
		t.Errorf("24 hours: %d failures drawn, want 8", got)
	}
	if got := eval[int](t, ctx, "lines", `document.querySelectorAll('#rtt-chart polyline').length`); got < 2 {
		t.Errorf("%d lines: want the gap without tests and the failures to break the line", got)
	}
	if txt := get(t, ctx, "uptime", chromedp.Text(chromedp.CSS(`#period-uptime`))); !strings.Contains(txt, "77.143 %") {
		t.Errorf("uptime over 24 hours: %q", txt)
	}
	failures := `document.querySelectorAll('#failures details.failure')`
	if got := eval[int](t, ctx, "failures", failures+`.length`); got != 8 {
		t.Errorf("%d failures listed, want 8", got)
	}
	if open := eval[[]bool](t, ctx, "open", `Array.from(`+failures+`).map(d => d.open)`); len(open) < 2 || !open[0] || open[1] {
		t.Errorf("open failures %v: want the last open, the others folded", open)
	}
	times := texts(t, ctx, "result times", `table.results tbody tr td:first-child`)
	if len(times) < 2 || times[0] < times[1] {
		t.Errorf("results %q: want newest first", times[:min(len(times), 3)])
	}
	shoot(t, ctx, "monitor-failure")
	run(t, ctx, "open an older failure", chromedp.Click(chromedp.CSS(`#failures details.failure:nth-child(2) summary`)))
	waitFor(t, ctx, "the older failure opens", failures+`[1].open`, 5*time.Second)

	run(t, ctx, "the last hour", chromedp.Click(chromedp.CSS(`a.period[data-period="1h"]`)), chromedp.WaitVisible(chromedp.CSS(`a.period[data-period="1h"][aria-current]`)))
	if got := marks(); got != 6 {
		t.Errorf("1 hour: %d failures drawn, want the 6 of the last hour", got)
	}
	if txt := get(t, ctx, "uptime", chromedp.Text(chromedp.CSS(`#period-uptime`))); !strings.Contains(txt, "last 1 hour") {
		t.Errorf("uptime over the hour: %q", txt)
	}
	// A monitor none of whose tests passed: its failures, not "no data".
	run(t, ctx, "POP3 login", chromedp.Navigate(fmt.Sprintf("%s/monitors/%d", p.url, p.ids["POP3 login"])), chromedp.WaitVisible(chromedp.CSS(`#rtt-chart`)))
	if got, txt := marks(), eval[string](t, ctx, "chart", `document.getElementById('rtt-chart').textContent`); got != 20 || strings.Contains(txt, "no test in this period") {
		t.Errorf("an always failing monitor: %d marks, %q", got, txt)
	}
}

// TestReportsWithoutRollUp: a database with results and no roll-up yet
// (a new install's first minutes) reports its tests, not 0 % and 0 ms; a
// monitor that never passed has no rtt, one never tested no availability;
// the CSV says the same.
func TestReportsWithoutRollUp(t *testing.T) {
	p := servePages(t)
	ctx := tab(t)
	login(t, ctx, p.url, "admin", pagesPassword)
	run(t, ctx, "reports", chromedp.Navigate(p.url+"/reports?period=24h"), chromedp.WaitVisible(chromedp.CSS(`#report-form`)))
	cells := map[string][]string{}
	for _, r := range eval[[][]string](t, ctx, "rows", `Array.from(document.querySelectorAll('table.report')[0].querySelectorAll('tbody tr')).map(tr => Array.from(tr.cells).map(c => c.textContent.trim()))`) {
		cells[r[1]] = r
	}
	// Device, Monitor, Tests, Availability, Outages, Outage time, rtt, Delivery.
	if c := cells["SMTP submission"]; c == nil || c[2] != "40" || c[3] != "100.000 %" || strings.HasPrefix(c[6], "0.00 ms") {
		t.Errorf("SMTP submission: %q", c)
	}
	if c := cells["IMAP login"]; c == nil || c[2] != "35" || c[3] != "77.143 %" {
		t.Errorf("IMAP login: %q", c)
	}
	if c := cells["POP3 login"]; c == nil || c[3] != "0.000 %" || c[6] != "–" {
		t.Errorf("POP3 login (never passed): %q, want no rtt", c)
	}
	if c := cells["New IMAP"]; c == nil || c[3] != "no data yet" || c[6] != "–" {
		t.Errorf("New IMAP (never tested): %q", c)
	}
	// Headers never break inside a word, even in a narrow window.
	run(t, ctx, "a narrow window", chromedp.EmulateViewport(700, 900))
	broken := eval[[]string](t, ctx, "headers", `Array.from(document.querySelectorAll('table.report th')).filter(th => {
		const t = th.firstChild; if (!t || t.nodeType !== 3) return false;
		let i = 0;
		for (const w of t.textContent.split(' ')) {
			const r = document.createRange(); r.setStart(t, i); r.setEnd(t, i + w.length); i += w.length + 1;
			if (r.getClientRects().length > 1) return true;
		}
		return false;
	}).map(th => th.textContent)`)
	if len(broken) > 0 {
		t.Errorf("headers broken inside a word: %q", broken)
	}
	run(t, ctx, "a wide window", chromedp.EmulateViewport(1280, 900))
	shoot(t, ctx, "report")
	csv := get(t, ctx, "the CSV", chromedp.Evaluate[string](`fetch(document.getElementById("csv").href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	for _, line := range strings.Split(csv, "\n") {
		f := strings.Split(line, ",")
		switch {
		case len(f) < 17:
		case f[1] == "POP3 login" && (f[8] != "0.000" || f[12] != ""):
			t.Errorf("CSV POP3 login: %q", line)
		case f[1] == "New IMAP" && (f[4] != "0" || f[8] != "" || f[12] != ""):
			t.Errorf("CSV New IMAP: %q", line)
		case f[1] == "IMAP login" && (f[4] != "35" || f[8] != "77.143"):
			t.Errorf("CSV IMAP login: %q", line)
		}
	}
}

// TestAlertForm: the form shows only the chosen kind's fields; a webhook's
// URL is stored sealed and shown as "set"; Send test alert reaches the
// receiver, marked as a test.
func TestAlertForm(t *testing.T) {
	p := servePages(t)
	got := make(chan alert.GenericPayload, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var pl alert.GenericPayload
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		json.Unmarshal(b, &pl)
		got <- pl
	}))
	defer hook.Close()
	ctx := tab(t)
	login(t, ctx, p.url, "admin", pagesPassword)
	run(t, ctx, "alerts", chromedp.Navigate(p.url+"/alerts"), chromedp.WaitVisible(chromedp.CSS(`#add-alert`)))
	visible := func() []string {
		return eval[[]string](t, ctx, "sections", `Array.from(document.querySelectorAll('fieldset[data-kind]')).filter(f => f.getClientRects().length > 0).map(f => f.dataset.kind)`)
	}
	for _, kind := range []string{"webhook", "email"} {
		run(t, ctx, "pick "+kind, chromedp.SetValue(chromedp.CSS(`#alert-kind`), kind),
			chromedp.Evaluate[chromedp.Void](`document.getElementById('alert-kind').dispatchEvent(new Event('change'))`))
		if v := visible(); len(v) != 1 || v[0] != kind {
			t.Errorf("kind %s: sections shown %v", kind, v)
		}
		shoot(t, ctx, "alert-form-"+kind)
	}
	run(t, ctx, "add a webhook", chromedp.SetValue(chromedp.CSS(`#alert-kind`), "webhook"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('alert-kind').dispatchEvent(new Event('change'))`),
		fill(map[string]string{"name": "ops hook", "webhook.url": hook.URL + "/hooks/s3cret-token", "webhook.format": "generic"}),
		chromedp.Submit(chromedp.CSS(`#add-alert`)), chromedp.WaitVisible(chromedp.CSS(`a[href$="/edit"]`)))
	if page := get(t, ctx, "the list", chromedp.Text(chromedp.CSS(`main`))); strings.Contains(page, "s3cret") {
		t.Errorf("the alerts page shows the webhook's secret path:\n%s", page)
	}
	as, _, err := p.st.Alerts(context.Background(), store.Page{})
	if err != nil || len(as) != 1 || strings.Contains(string(as[0].Spec), "s3cret") || as[0].Secrets["webhook.url"] == "" {
		t.Fatalf("stored: %+v %v, want the URL sealed", as, err)
	}
	run(t, ctx, "edit it", chromedp.Click(chromedp.CSS(`a[href$="/edit"]`)), chromedp.WaitVisible(chromedp.CSS(`#test-alert`)))
	if v := visible(); len(v) != 1 || v[0] != "webhook" {
		t.Errorf("editing a webhook: sections shown %v", v)
	}
	if badge := eval[int](t, ctx, "set", `Array.from(document.querySelectorAll('fieldset[data-kind="webhook"] .badge')).filter(b => b.textContent === 'set').length`); badge != 1 {
		t.Error("the edit form does not show the URL as set")
	}
	run(t, ctx, "send a test alert", chromedp.Click(chromedp.CSS(`#test-alert`)), chromedp.WaitVisible(chromedp.CSS(`#notice`)))
	select {
	case pl := <-got:
		if pl.Event != "test" || pl.State != "test" || pl.Monitor != "test alert ops hook" {
			t.Errorf("the receiver got %+v, want a test event", pl)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the test alert did not reach the receiver")
	}
	shoot(t, ctx, "alert-test-sent")
}
