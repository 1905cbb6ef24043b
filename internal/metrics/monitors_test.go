package metrics

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/sync/errgroup"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
)

// testedEngine is an engine of n smtp monitors on one device, each tested
// once by a prober that times four phases (no network).
func testedEngine(tb testing.TB, n int) *engine.Engine {
	tb.Helper()
	e, _, _ := newTested(tb, n)
	return e
}

// newTested is testedEngine, its store and its monitors' ids.
func newTested(tb testing.TB, n int) (*engine.Engine, *sqlite.Store, []int64) {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "m.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	d := &store.Device{Name: "mail1", Address: "127.0.0.1"}
	if err := st.PutDevice(ctx, d); err != nil {
		tb.Fatal(err)
	}
	spec, _ := json.Marshal(config.Monitor{Port: 25, Timing: config.Timing{MaxDuration: config.Duration(2 * time.Second), UpEvery: config.Duration(time.Hour)}})
	var ids []int64
	for from := 0; from < n; from += 1000 {
		err := st.Batch(ctx, func(b store.Config) error {
			for i := from; i < min(n, from+1000); i++ {
				m := &store.Monitor{DeviceID: d.ID, Name: fmt.Sprint("smtp-", i), Type: "smtp", Enabled: true, Spec: spec}
				if err := b.PutMonitor(ctx, m); err != nil {
					return err
				}
				ids = append(ids, m.ID)
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	phases := func(_ context.Context, _ *probe.Config, t *probe.Trace) error {
		for _, p := range []string{"connect", "greeting", "ehlo", "quit"} {
			t.Step(p, func() error { return nil })
		}
		return nil
	}
	e := engine.New(engine.Options{Store: st, Probers: func(string) (probe.Prober, bool) { return phases, true }})
	if err := e.Load(ctx); err != nil {
		tb.Fatal(err)
	}
	testAll(tb, e, ids)
	return e, st, ids
}

// testAll tests each monitor of ids once, eight at a time (the store
// commits their results in groups).
func testAll(tb testing.TB, e *engine.Engine, ids []int64) {
	tb.Helper()
	var g errgroup.Group
	g.SetLimit(8)
	for _, id := range ids {
		g.Go(func() error {
			_, err := e.TestNow(context.Background(), id)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		tb.Fatal(err)
	}
}

// TestScrapeAllocations: a scrape allocates a few objects per monitor,
// not one set per series (client_golang's const metrics: ~290 a monitor).
func TestScrapeAllocations(t *testing.T) {
	const n = 200
	h := Handler(testedEngine(t, n), Options{Location: "eu-west"})
	scrape := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		return rec
	}
	// The exposition is valid, one family of each name, and every
	// mailmon_ series carries the location.
	body := scrape().Body.String()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("invalid exposition: %v\n%s", err, body[:min(len(body), 2000)])
	}
	perMonitor := map[string]int{"mailmon_monitor_state": 7, "mailmon_monitor_tests_total": 1, "mailmon_monitor_up": 1,
		"mailmon_monitor_rtt_seconds": 1, "mailmon_monitor_phase_seconds": 4}
	for name, k := range perMonitor {
		if got := len(fams[name].GetMetric()); got != k*n {
			t.Errorf("%s: %d series, want %d", name, got, k*n)
		}
	}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			loc := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "location" {
					loc = l.GetValue()
				}
			}
			if strings.HasPrefix(name, "mailmon_") && loc != "eu-west" {
				t.Fatalf("%s: a series without the location: %v", name, m)
			}
		}
	}
	allocs := testing.AllocsPerRun(5, func() { scrape() })
	t.Logf("%.0f allocations a scrape of %d monitors", allocs, n)
	if allocs > 20*n {
		t.Errorf("%.0f allocations a scrape of %d monitors, want at most %d", allocs, n, 20*n)
	}
}

// TestScrapeGzip: a client that accepts gzip gets the exposition gzipped,
// as from promhttp.
func TestScrapeGzip(t *testing.T) {
	h := Handler(testedEngine(t, 2), Options{})
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept-Encoding", "deflate, gzip;q=1.0")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q", rec.Header().Get("Content-Encoding"))
	}
	// XFL 4: compressed at gzip.BestSpeed (RFC 1952), 4 times as fast
	// as the default level on a 100,000-monitor body
	if b := rec.Body.Bytes(); len(b) < 10 || b[8] != 4 {
		t.Errorf("gzip header % x: not compressed at the fastest level", b[:min(len(b), 10)])
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil || !strings.Contains(string(b), `mailmon_monitor_up{device="mail1",monitor="smtp-1",type="smtp"} 1`) {
		t.Errorf("%v:\n%s", err, b)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
}

// scrapeOf is the body of one scrape of h.
func scrapeOf(h http.Handler) string {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// monitorLines are the per-monitor lines of a body (the Go runtime's
// change from one scrape to the next).
func monitorLines(body string) string {
	var b strings.Builder
	for line := range strings.Lines(body) {
		if strings.Contains(line, "mailmon_monitor_") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// TestScrapeRendersWhatChanged: a scrape after monitors were tested,
// renamed, disabled, deleted and added shows them as a handler that never
// scraped before does (the series kept from the last scrape are those of
// the monitors unchanged).
func TestScrapeRendersWhatChanged(t *testing.T) {
	ctx := context.Background()
	e, st, ids := newTested(t, 20)
	h := Handler(e, Options{Location: "eu-west"})
	first := monitorLines(scrapeOf(h))
	if first != monitorLines(scrapeOf(Handler(e, Options{Location: "eu-west"}))) {
		t.Fatal("a second handler's first scrape differs from the first's")
	}
	testAll(t, e, ids[:5])
	edit := func(id int64, fn func(m *store.Monitor)) {
		t.Helper()
		m, err := st.Monitor(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		fn(m)
		if err := st.PutMonitor(ctx, m); err != nil {
			t.Fatal(err)
		}
		if err := e.Reload(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	edit(ids[6], func(m *store.Monitor) { m.Name = `renamed "6"` })
	edit(ids[7], func(m *store.Monitor) { m.Enabled = false })
	if err := st.DeleteMonitor(ctx, ids[8]); err != nil {
		t.Fatal(err)
	}
	if err := e.Reload(ctx, ids[8]); err != nil {
		t.Fatal(err)
	}
	added := &store.Monitor{DeviceID: 1, Name: "added", Type: "smtp", Enabled: true, Spec: []byte(`{"port":25}`)}
	if err := st.PutMonitor(ctx, added); err != nil {
		t.Fatal(err)
	}
	if err := e.Reload(ctx, added.ID); err != nil {
		t.Fatal(err)
	}
	got, want := monitorLines(scrapeOf(h)), monitorLines(scrapeOf(Handler(e, Options{Location: "eu-west"})))
	if got != want {
		t.Errorf("after changes, the scrape differs from a fresh handler's:\n%s\nwant:\n%s", got, want)
	}
	for _, s := range []string{`monitor="renamed \"6\""`, `monitor="added"`, `monitor="smtp-7",state="disabled",type="smtp"} 1`} {
		if !strings.Contains(got, s) {
			t.Errorf("no %s in the scrape", s)
		}
	}
	if strings.Contains(got, `monitor="smtp-8"`) || strings.Contains(got, `monitor="smtp-6"`) {
		t.Error("a deleted or renamed monitor's series are still there")
	}
	if got == first {
		t.Error("nothing changed")
	}
}

// TestScrapeUnchangedAllocations: a scrape when no monitor changed since
// the last one copies their series without allocating for them: the
// allocations of a scrape do not grow with the monitors (they were ~2.6 a
// monitor, 260,000 a scrape at 100,000 monitors).
func TestScrapeUnchangedAllocations(t *testing.T) {
	allocs := func(n int) float64 {
		h := Handler(testedEngine(t, n), Options{})
		req := httptest.NewRequest("GET", "/metrics", nil)
		h.ServeHTTP(&discard{}, req)
		return testing.AllocsPerRun(10, func() { h.ServeHTTP(&discard{}, req) })
	}
	small, large := allocs(100), allocs(2000)
	t.Logf("allocations a scrape: %.0f at 100 monitors, %.0f at 2,000", small, large)
	if perMonitor := (large - small) / 1900; perMonitor > 0.05 {
		t.Errorf("%.2f allocations a scrape per monitor unchanged, want none (%.0f at 100 monitors, %.0f at 2,000)", perMonitor, small, large)
	}
}

// discard is a ResponseWriter that throws the body away: a scrape's own
// allocations, not a recorder's growing buffer.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header {
	if d.h == nil {
		d.h = http.Header{}
	}
	return d.h
}
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}
