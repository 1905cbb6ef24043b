package metrics

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

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
	for i := range n {
		m := &store.Monitor{DeviceID: d.ID, Name: fmt.Sprint("smtp-", i), Type: "smtp", Enabled: true, Spec: spec}
		if err := st.PutMonitor(ctx, m); err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, m.ID)
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
	for _, id := range ids {
		if _, err := e.TestNow(ctx, id); err != nil {
			tb.Fatal(err)
		}
	}
	return e
}

// TestScrapeAllocations: a scrape allocates nothing a monitor but its
// copy in the engine's snapshot, not one set per series (client_golang's
// const metrics: ~290 a monitor) nor a map a monitor.
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
	// What a scrape allocates a monitor: the difference between the
	// monitors' part of scrapes of n and of a few monitors (the engine's
	// snapshot and the series written from it). The registry's own
	// series are left out: the process collector reads /proc, whose
	// files (open descriptors, limits) vary from one scrape to the next
	// by tens of KB, more than the whole budget at 200 monitors. Nothing
	// grows with the monitors now: the snapshot is taken into memory the
	// handler keeps (it was ~15 MB a scrape at 100,000 monitors, 72 B a
	// monitor and more for the counts); before 2026-12-06 a scrape
	// allocated 2 objects and ~540 B a monitor (a copy of its counts' map,
	// and its label values).
	big, little := monitorsCost(testedEngine(t, n)), monitorsCost(testedEngine(t, 10))
	t.Logf("the monitors of a scrape of %d: %.0f allocations, %.0f B", n, big.objects, big.bytes)
	perObjects := (big.objects - little.objects) / (n - 10)
	perBytes := (big.bytes - little.bytes) / (n - 10)
	t.Logf("a monitor: %.2f allocations, %.0f B", perObjects, perBytes)
	if perObjects > 0.1 || perBytes > 16 {
		t.Errorf("a scrape allocates %.2f objects and %.0f B a monitor, want at most 0.1 and 16", perObjects, perBytes)
	}
}

// allocations are what a scrape allocates.
type allocations struct{ objects, bytes float64 }

// monitorsCost is the least that the monitors' part of a scrape of e
// (the snapshot, its series written to a discarding writer, through the
// handler, with a registry of nothing else) allocated in 9: the least,
// because what else runs (and the race detector, which drops a pooled
// object now and then) only adds to it.
func monitorsCost(e *engine.Engine) allocations {
	h := newHandler(e, prometheus.NewRegistry(), Options{Location: "eu-west"}, realClock{})
	now := time.Now()
	h.render(io.Discard, false, now) // warm the pools and the snapshot's memory
	least := allocations{math.Inf(1), math.Inf(1)}
	for range 9 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		h.render(io.Discard, false, now)
		runtime.ReadMemStats(&after)
		least.objects = min(least.objects, float64(after.Mallocs-before.Mallocs))
		least.bytes = min(least.bytes, float64(after.TotalAlloc-before.TotalAlloc))
	}
	return least
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
