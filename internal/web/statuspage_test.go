package web

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// Distinctive strings of the server's words and addresses, none of which
// a status page or badge may show.
var statusSecrets = []string{"hidden-host-7731", "10.9.8.7", "4717", "TRANSCRIPT-WORD-4242", "REPLY-WORD-5151", "ERROR-WORD-9191",
	"service_error", "ehlo-word-6262", "probe-user-3838", "CAUSE-WORD-2727"}

// statusFixture: a device whose address and monitors' settings hold
// statusSecrets, one monitor Up, one Down with an error, transcript and
// reply; a public page "public" and a private page "team" of them.
func statusFixture(t *testing.T) (*fixture, *store.Monitor, *store.Monitor) {
	t.Helper()
	f := newFixture(t, false)
	ctx := context.Background()
	d := &store.Device{Name: "mail1", Address: "hidden-host-7731.example.test"}
	must(t, f.st.PutDevice(ctx, d))
	d2 := &store.Device{Name: "mail2", Address: "10.9.8.7"}
	must(t, f.st.PutDevice(ctx, d2))
	up := &store.Monitor{DeviceID: d.ID, Name: "SMTP", Type: "smtp", Enabled: true, Spec: []byte(`{"port":4717,"ehlo":"ehlo-word-6262"}`)}
	must(t, f.st.PutMonitor(ctx, up))
	down := &store.Monitor{DeviceID: d2.ID, Name: "IMAP", Type: "imap", Enabled: true, Spec: []byte(`{"port":4717,"user":"probe-user-3838"}`)}
	must(t, f.st.PutMonitor(ctx, down))
	now := f.clock.Now()
	for i := range 10 {
		at := now.Add(time.Duration(i-10) * time.Minute)
		must(t, f.st.RecordTest(ctx, store.Test{Result: store.Result{MonitorID: up.ID, Time: at, Status: probe.StatusUp, RTT: time.Millisecond},
			Status: store.Status{MonitorID: up.ID, Status: state.Status{State: state.Up, Since: now.Add(-time.Hour)}, LastTest: at}}))
		res := &probe.Result{Type: "imap", Target: "10.9.8.7:4717", Status: probe.StatusDown, Started: at,
			Error:      &probe.Error{Code: probe.ServiceError, Message: "ERROR-WORD-9191 at 10.9.8.7:4717", Reply: "* BYE REPLY-WORD-5151"},
			Transcript: []string{"S: * OK TRANSCRIPT-WORD-4242 hidden-host-7731"}}
		st := probe.StatusUp
		if i >= 6 {
			st = probe.StatusDown
		}
		must(t, f.st.RecordTest(ctx, store.Test{Result: store.Result{MonitorID: down.ID, Time: at, Status: st, Code: probe.ServiceError, Detail: res},
			Status: store.Status{MonitorID: down.ID, Status: state.Status{State: state.Lost, Since: now.Add(-4 * time.Minute)}, LastResult: res, LastTest: at},
			Change: &store.StateChange{MonitorID: down.ID, Time: at, From: state.Up, To: state.Down, Cause: "CAUSE-WORD-2727"}}))
	}
	file, err := config.Parse("pages.yaml", []byte(`status_pages:
  - {name: public, title: Example Mail, description: Mail at example.com., monitors: [mail1/SMTP], devices: [mail2], public: true}
  - {name: team, title: Team only, monitors: [mail1/SMTP]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.web.Catalog.ApplyFile(ctx, file, catalog.Env{}); err != nil {
		t.Fatal(err)
	}
	return f, up, down
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func noSecrets(t *testing.T, what, body string) {
	t.Helper()
	for _, s := range statusSecrets {
		if strings.Contains(body, s) {
			t.Errorf("%s shows %q (the server's words or addresses):\n%s", what, s, body)
		}
	}
}

// TestStatusPagePublic: a public page needs no login and shows each
// monitor's state (Lost as Down), uptimes, the incident since when, a
// strip of days, cached by shared caches; nothing of the server's words
// or addresses.
func TestStatusPagePublic(t *testing.T) {
	f, _, _ := statusFixture(t)
	b := f.browser(t)
	code, body, h := b.fetch(t, "/status/public")
	if code != http.StatusOK {
		t.Fatalf("public page without a login: %d %s", code, body)
	}
	for _, want := range []string{"<h1>Example Mail</h1>", "Mail at example.com.", `id="overall" data-state="down"`, "Some services are down.",
		`<tr class="row st-up" data-state="up">`, `<span class="dname">mail1 ·</span> SMTP`,
		`<tr class="row st-down" data-state="down">`, `<span class="dname">mail2 ·</span> IMAP`,
		"<strong>mail2 · IMAP</strong> since", ">100 %<", ">60.00 %<", `class="beat b-up"`, `class="beat b-down"`, `aria-label="the last 30 days: 1 with failed tests"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q:\n%s", want, body)
		}
	}
	noSecrets(t, "the public page", body)
	if got := h.Get("Cache-Control"); got != "public, max-age=30" {
		t.Errorf("Cache-Control %q", got)
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "style=") || strings.Contains(body, "<nav") {
		t.Errorf("inline script or style, or the team's navigation:\n%s", body)
	}
	if code, _, _ := b.fetch(t, "/status/nosuchpage"); code != http.StatusNotFound {
		t.Errorf("a page that does not exist: %d", code)
	}
}

// TestStatusPagePrivate: a private page is 404 without a session, as a
// page that does not exist is (the same body), and shown with one; the
// team sees the list of pages in its navigation.
func TestStatusPagePrivate(t *testing.T) {
	f, _, _ := statusFixture(t)
	anon := f.browser(t)
	code, body, _ := anon.fetch(t, "/status/team")
	_, none, _ := anon.fetch(t, "/status/nosuchpage")
	if code != http.StatusNotFound || body != none || strings.Contains(body, "Team only") {
		t.Errorf("a private page without a session: %d %q (a page that does not exist: %q)", code, body, none)
	}
	if code, _, _ := anon.fetch(t, "/badge/team/status.svg"); code != http.StatusNotFound {
		t.Errorf("a private page's badge: %d", code)
	}
	b := f.loggedIn(t)
	code, body, h := b.fetch(t, "/status/team")
	if code != http.StatusOK || !strings.Contains(body, "<h1>Team only</h1>") || h.Get("Cache-Control") != "private, no-store" {
		t.Errorf("a private page with a session: %d %q\n%s", code, h.Get("Cache-Control"), body)
	}
	noSecrets(t, "the private page", body)
	if code, _, _ := b.fetch(t, "/badge/team/status.svg"); code != http.StatusNotFound {
		t.Errorf("a private page's badge, with a session: %d", code)
	}
	// A user an authenticating proxy names sees it too.
	f.web.UserHeader = "Remote-User"
	f.web.Proxies, _ = ParseProxies("127.0.0.1/32,::1")
	if code, body := f.browser(t).asProxied(t, "/status/team", "admin"); code != http.StatusOK || !strings.Contains(body, "<h1>Team only</h1>") {
		t.Errorf("a private page through an authenticating proxy: %d", code)
	}
	if code, _ := f.browser(t).asProxied(t, "/status/team", "stranger"); code != http.StatusNotFound {
		t.Errorf("a private page for a user the proxy names and mailmon does not know: %d", code)
	}
	_, list := b.get(t, "/status-pages")
	for _, want := range []string{`<a href="/status-pages" aria-current="page">Status pages</a>`, `<a href="/status/public">/status/public</a>`,
		`<a href="/status/team">/status/team</a>`, "logged-in users", "/badge/public/status.svg"} {
		if !strings.Contains(list, want) {
			t.Errorf("the list lacks %q:\n%s", want, list)
		}
	}
}

// TestStatusBadges: badges are SVG of the right state and uptime, with
// an image's type and a policy that runs nothing; only for monitors of a
// public page.
func TestStatusBadges(t *testing.T) {
	f, _, _ := statusFixture(t)
	b := f.browser(t)
	for _, tc := range []struct{ path, label, message, colour string }{
		{"/badge/public/status.svg", "Example Mail", "down", "#e05d44"},
		{"/badge/public/mail1/SMTP/status.svg", "SMTP", "up", "#44cc11"},
		{"/badge/public/mail2/IMAP/status.svg", "IMAP", "down", "#e05d44"},
		{"/badge/public/mail1/SMTP/uptime-30d.svg", "SMTP 30d", "100 %", "#44cc11"},
		{"/badge/public/mail2/IMAP/uptime-30d.svg", "IMAP 30d", "60.00 %", "#e05d44"},
	} {
		code, body, h := b.fetch(t, tc.path)
		if code != http.StatusOK || h.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(h.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("%s: %d %q %q", tc.path, code, h.Get("Content-Type"), h.Get("Content-Security-Policy"))
			continue
		}
		var svg struct {
			XMLName xml.Name `xml:"svg"`
			Label   string   `xml:"aria-label,attr"`
			Title   string   `xml:"title"`
			Rects   []struct {
				Fill string `xml:"fill,attr"`
			} `xml:"g>rect"`
		}
		if err := xml.Unmarshal([]byte(body), &svg); err != nil {
			t.Errorf("%s is not SVG: %v\n%s", tc.path, err, body)
			continue
		}
		if want := tc.label + ": " + tc.message; svg.Label != want || svg.Title != want || len(svg.Rects) < 2 || svg.Rects[1].Fill != tc.colour {
			t.Errorf("%s: %q %q %+v, want %q in %s", tc.path, svg.Label, svg.Title, svg.Rects, want, tc.colour)
		}
		noSecrets(t, tc.path, body)
	}
	for _, p := range []string{"/badge/public/mail1/IMAP/status.svg", "/badge/public/mail1/SMTP/other.svg", "/badge/team/mail1/SMTP/status.svg", "/badge/nosuch/mail1/SMTP/status.svg"} {
		if code, _, _ := b.fetch(t, p); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, code)
		}
	}
}

// TestBadgeEscaped: a name with markup is text in the badge.
func TestBadgeEscaped(t *testing.T) {
	svg := string(badgeSVG(`<script>alert(1)</script>&"`, "up", "#44cc11"))
	if strings.Contains(svg, "<script") || !strings.Contains(svg, "&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#34;") {
		t.Errorf("not escaped:\n%s", svg)
	}
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Errorf("not XML: %v", err)
	}
}

// TestStatusPagesRateLimited: one client asking too often is told to
// wait; another is not.
func TestStatusPagesRateLimited(t *testing.T) {
	f, _, _ := statusFixture(t)
	b := f.browser(t)
	limited := 0
	for range statusBurst + 5 {
		if code, _, h := b.fetch(t, "/badge/public/status.svg"); code == http.StatusTooManyRequests {
			limited++
			if h.Get("Retry-After") == "" {
				t.Errorf("429 without Retry-After")
			}
		}
	}
	if limited < 5 {
		t.Errorf("%d of %d requests refused, want at least 5 (burst %d)", limited, statusBurst+5, statusBurst)
	}
	if !f.web.statusClients.allow("192.0.2.99", f.clock.Now()) {
		t.Errorf("another client is refused")
	}
}

// countingStore counts the store's reads a status page makes.
type countingStore struct {
	store.Store
	mu     sync.Mutex
	n      int
	pages  int           // StatusPageByName's calls
	arrive chan struct{} // when set, StatusPageByName sends on it
	hold   chan struct{} // when set, Statuses waits for it to close
}

func (c *countingStore) count() { c.mu.Lock(); c.n++; c.mu.Unlock() }
func (c *countingStore) reads() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
func (c *countingStore) StatusPageByName(ctx context.Context, name string) (*store.StatusPage, error) {
	c.count()
	if c.arrive != nil {
		c.arrive <- struct{}{}
	}
	return c.Store.StatusPageByName(ctx, name)
}
func (c *countingStore) DeviceByName(ctx context.Context, name string) (*store.Device, error) {
	c.count()
	return c.Store.DeviceByName(ctx, name)
}
func (c *countingStore) MonitorByName(ctx context.Context, d int64, name string) (*store.Monitor, error) {
	c.count()
	return c.Store.MonitorByName(ctx, d, name)
}
func (c *countingStore) Monitors(ctx context.Context, f store.MonitorFilter) ([]store.Monitor, int, error) {
	c.count()
	return c.Store.Monitors(ctx, f)
}
func (c *countingStore) Statuses(ctx context.Context, ids []int64) (map[int64]*store.Status, error) {
	c.count()
	if c.hold != nil {
		<-c.hold
	}
	return c.Store.Statuses(ctx, ids)
}
func (c *countingStore) RollupCounts(ctx context.Context, ids []int64, period string, from, to time.Time) (map[int64]store.Counts, error) {
	c.count()
	return c.Store.RollupCounts(ctx, ids, period, from, to)
}
func (c *countingStore) RawCounts(ctx context.Context, ids []int64, from, to time.Time) (map[int64]store.Counts, error) {
	c.count()
	return c.Store.RawCounts(ctx, ids, from, to)
}
func (c *countingStore) Rollups(ctx context.Context, id int64, period string, from, to time.Time) ([]store.Rollup, error) {
	c.count()
	return c.Store.Rollups(ctx, id, period, from, to)
}
func (c *countingStore) MaintenancesNow(ctx context.Context, now time.Time) ([]store.MaintenanceNow, error) {
	c.count()
	return c.Store.MaintenancesNow(ctx, now)
}

// TestStatusPageIsCheap: within statusTTL, a public page or badge costs
// one read of the store (the page's record); after it, or after the page
// changes, its figures are read again.
func TestStatusPageIsCheap(t *testing.T) {
	f, _, _ := statusFixture(t)
	cs := &countingStore{Store: f.st}
	w := &Server{Store: cs, Catalog: f.web.Catalog, Now: f.clock.Now}
	srv := httptest.NewServer(w.Handler())
	t.Cleanup(srv.Close)
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return string(b)
	}
	get("/status/public")
	first := cs.reads()
	for _, p := range []string{"/status/public", "/badge/public/status.svg", "/badge/public/mail1/SMTP/uptime-30d.svg"} {
		before := cs.reads()
		get(p)
		if n := cs.reads() - before; n != 1 {
			t.Errorf("%s within the cache's time: %d reads, want 1", p, n)
		}
	}
	f.clock.Add(statusTTL)
	before := cs.reads()
	get("/status/public")
	if n := cs.reads() - before; n != first {
		t.Errorf("after the cache's time: %d reads, want %d (the figures again)", n, first)
	}
	// A change of the page shows at once.
	file, err := config.Parse("pages.yaml", []byte("status_pages:\n  - {name: public, title: Renamed, devices: [mail2], public: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.web.Catalog.ApplyFile(context.Background(), file, catalog.Env{}); err != nil {
		t.Fatal(err)
	}
	if body := get("/status/public"); !strings.Contains(body, "<h1>Renamed</h1>") || strings.Contains(body, "SMTP") {
		t.Errorf("the page after its change:\n%s", body)
	}
}

// TestStatusPageComputedOnce: requests that miss the cache together wait
// for one computation of the figures, not one each.
func TestStatusPageComputedOnce(t *testing.T) {
	f, _, _ := statusFixture(t)
	ref := &countingStore{Store: f.st}
	one := &Server{Store: ref, Catalog: f.web.Catalog, Now: f.clock.Now}
	srv1 := httptest.NewServer(one.Handler())
	t.Cleanup(srv1.Close)
	resp, err := http.Get(srv1.URL + "/status/public")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	alone := ref.reads() // one request's reads, the figures made

	const n = 8
	cs := &countingStore{Store: f.st, arrive: make(chan struct{}), hold: make(chan struct{})}
	w := &Server{Store: cs, Catalog: f.web.Catalog, Now: f.clock.Now}
	srv := httptest.NewServer(w.Handler())
	t.Cleanup(srv.Close)
	done := make(chan int, n)
	for range n {
		go func() {
			resp, err := http.Get(srv.URL + "/status/public")
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
	}
	for range n { // all have asked before any figure is read
		<-cs.arrive
	}
	close(cs.hold)
	for range n {
		if code := <-done; code != 200 {
			t.Errorf("status %d", code)
		}
	}
	if got, want := cs.reads(), alone+n-1; got != want {
		t.Errorf("%d requests together: %d reads, want %d (the figures once, the page's record each)", n, got, want)
	}
}

// TestStatusPageMaintenance: a monitor in maintenance now says until
// when; a window to come within a week says from when to when.
func TestStatusPageMaintenance(t *testing.T) {
	f, up, down := statusFixture(t)
	ctx := context.Background()
	now := f.clock.Now()
	until := now.Add(2 * time.Hour)
	must(t, f.st.PutMaintenanceNow(ctx, store.MaintenanceNow{MonitorID: down.ID, Until: until, By: "alice", At: now}))
	must(t, f.st.RecordTest(ctx, store.Test{Status: store.Status{MonitorID: down.ID, Status: state.Status{State: state.Maintenance, Since: now}}}))
	start := now.Add(26 * time.Hour).UTC().Truncate(time.Minute)
	up.Spec = []byte(`{"port":4717,"maintenance":[{"start":"` + start.Format(time.RFC3339) + `","end":"` + start.Add(time.Hour).Format(time.RFC3339) + `"}]}`)
	must(t, f.st.PutMonitor(ctx, up))
	_, body, _ := f.browser(t).fetch(t, "/status/public")
	for _, want := range []string{`id="overall" data-state="maintenance"`, "Maintenance is under way.",
		"<strong>mail2 · IMAP</strong>: now, until <time datetime=\"" + until.UTC().Format(time.RFC3339) + `">`,
		"<strong>mail1 · SMTP</strong>: from <time datetime=\"" + start.Format(time.RFC3339) + `">`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "alice") || strings.Contains(body, `id="incidents"`) {
		t.Errorf("who began it, or an incident, shown:\n%s", body)
	}
}
