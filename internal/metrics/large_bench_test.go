package metrics

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailmon/mailmon/internal/bench/procstat"
	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
)

// leanSnapshot is what the engine holds of n tested monitors of the
// 100,000-monitor goal's mix (issue 25): 45% tcp connects, 45% smtp
// banners with EHLO, 10% smtp STARTTLS with a certificate, 100 monitors a
// device, up, one to three test outcomes each. Built without a network or
// a store, so that 100,000 take a second.
func leanSnapshot(n int) []engine.MonitorSnapshot {
	ms := func(d int) time.Duration { return time.Duration(d) * 137 * time.Microsecond }
	expiry := time.Date(2027, 3, 14, 9, 26, 53, 0, time.UTC)
	snap := make([]engine.MonitorSnapshot, n)
	for i := range snap {
		m := engine.MonitorSnapshot{ID: int64(i + 1), Device: fmt.Sprintf("mx%d.example.net", i/100), State: state.Up,
			Tests: []engine.TestCount{{TestKey: engine.TestKey{Result: probe.StatusUp}, N: int64(100 + i%50)}}}
		r := engine.LastTest{Status: probe.StatusUp}
		switch {
		case i%10 == 0:
			m.Name, m.Type = fmt.Sprint("starttls-", i), "smtp"
			r.Phases = []probe.Phase{{Name: "connect", Duration: ms(1)}, {Name: "greeting", Duration: ms(2)},
				{Name: "capabilities", Duration: ms(3)}, {Name: "starttls", Duration: ms(9)},
				{Name: "capabilities_tls", Duration: ms(2)}, {Name: "quit", Duration: ms(1)}}
			r.CertNotAfter = expiry.Unix()
			m.Tests = append(m.Tests, engine.TestCount{TestKey: engine.TestKey{Result: probe.StatusDown, Code: probe.TLSFailed}, N: 2})
		case i%2 == 1:
			m.Name, m.Type = fmt.Sprint("banner-", i), "smtp"
			r.Phases = []probe.Phase{{Name: "connect", Duration: ms(1)}, {Name: "greeting", Duration: ms(2)},
				{Name: "capabilities", Duration: ms(3)}, {Name: "quit", Duration: ms(1)}}
		default:
			m.Name, m.Type = fmt.Sprint("tcp-", i), "tcp"
			r.Phases = []probe.Phase{{Name: "connect", Duration: ms(1)}}
		}
		if i%7 == 0 {
			m.Tests = append(m.Tests, engine.TestCount{TestKey: engine.TestKey{Result: probe.StatusDown, Code: probe.Timeout}, N: 1})
		}
		for _, p := range r.Phases {
			r.RTT += p.Duration
		}
		m.Last = r
		snap[i] = m
	}
	return snap
}

// countingWriter counts what is written to it.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkScrapeLarge writes the per-monitor part of a scrape (what grows
// with the monitors: everything but the registry's few dozen series) of
// 20,000 and 100,000 monitors of the lean mix, plain and gzipped, from the
// engine's snapshot (whose own cost is engine's BenchmarkSnapshot).
// cpu-µs/monitor is the process's CPU time (every goroutine's, the GC's
// included), which a loaded machine inflates less than wall time.
// go test -run X -bench ScrapeLarge -benchtime 3x ./internal/metrics
func BenchmarkScrapeLarge(b *testing.B) {
	for _, n := range []int{20_000, 100_000} {
		// sorted by ID, as Snapshot returns it
		snap := leanSnapshot(n)
		work := make([]engine.MonitorSnapshot, n)
		for _, gz := range []bool{false, true} {
			b.Run(fmt.Sprintf("monitors=%d/gzip=%v", n, gz), func(b *testing.B) {
				x := newExpositor("")
				var w countingWriter
				b.ReportAllocs()
				b.ResetTimer()
				cpu0, _ := procstat.Self()
				for range b.N {
					copy(work, snap)
					x.write(&w, gz, work, nil)
				}
				cpu1, _ := procstat.Self()
				per := float64(b.N) * float64(n)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/per, "µs/monitor")
				b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/1e3/per, "cpu-µs/monitor")
				b.ReportMetric(float64(w.n)/float64(b.N)/1e6, "MB/scrape")
			})
		}
	}
}

// BenchmarkScrapeSteady is a steady scraper of /metrics at 100,000
// monitors of the lean mix, as serve's handler answers it with
// render-ahead: a real HTTP client on loopback scrapes every 8 s with
// Prometheus' header and reads each answer to its last byte into the
// buffer of the last one (as Prometheus does); ms-p50 and ms-max are the
// time of the answers from the third on (the first two are rendered on
// demand), renders/scrape should be 1. b.N is the scrapes: -benchtime 10x
// (80 s). The handler's engine is a built snapshot; the registry is empty.
// go test -run X -bench ScrapeSteady -benchtime 10x ./internal/metrics
func BenchmarkScrapeSteady(b *testing.B) {
	const n, every = 100_000, 8 * time.Second
	snap := leanSnapshot(n)
	h := newHandler(nil, prometheus.NewRegistry(), Options{RenderAhead: true}, realClock{})
	var renders atomic.Int64
	h.snapshot = func(*engine.SnapshotBuffer) []engine.MonitorSnapshot { renders.Add(1); return slices.Clone(snap) }
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := &http.Client{Timeout: 30 * time.Second}
	var body bytes.Buffer
	var took []time.Duration
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		time.Sleep(time.Until(start.Add(time.Duration(i) * every)))
		req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "10")
		t0 := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body.Reset()
		_, err = io.Copy(&body, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatal(resp.Status, err)
		}
		if i >= 2 {
			took = append(took, time.Since(t0))
		}
	}
	b.StopTimer()
	if len(took) > 0 {
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)/2].Microseconds())/1e3, "ms-p50")
		b.ReportMetric(float64(took[len(took)-1].Microseconds())/1e3, "ms-max")
	}
	b.ReportMetric(float64(renders.Load())/float64(b.N), "renders/scrape")
	b.ReportMetric(float64(body.Len())/1e6, "MB/scrape")
}
