package engine

import (
	"fmt"
	"testing"
	"time"
	"unique"

	"github.com/mailmon/mailmon/internal/bench/procstat"
	"github.com/mailmon/mailmon/internal/probe"
)

// BenchmarkSnapshot takes the snapshot a /metrics scrape starts from, of
// 20,000 and 100,000 monitors each tested a few times (one to three
// outcomes): B/op and allocs/op divided by the monitors are what a scrape
// allocates a monitor here, ns/op is how long a snapshot takes
// (cpu-ns/monitor: the process's CPU, the GC's included), µs-longest-wait
// the longest a test finishing meanwhile waited for the engine's lock.
func BenchmarkSnapshot(b *testing.B) {
	for _, n := range []int{20_000, 100_000} {
		b.Run(fmt.Sprint("monitors=", n), func(b *testing.B) {
			e := New(Options{})
			for i := range n {
				id := int64(i + 1)
				e.monitors[id] = &entry{m: monitorRef{ID: id, Name: fmt.Sprint("m", i), Type: "smtp", Enabled: true}, device: unique.Make(deviceRef{Name: fmt.Sprint("d", i/100)})}
				res := &probe.Result{Type: "smtp", Status: probe.StatusUp, RTT: time.Millisecond, Phases: []probe.Phase{{Name: "connect"}, {Name: "greeting"}}}
				for range 3 {
					e.count(id, res)
				}
				if i%10 == 0 {
					e.count(id, &probe.Result{Type: "smtp", Status: probe.StatusDown, Error: &probe.Error{Code: probe.Timeout}})
				}
				if i%7 == 0 {
					e.count(id, &probe.Result{Type: "smtp", Status: probe.StatusDown, Error: &probe.Error{Code: probe.ConnectFailed}})
				}
			}
			// a test finishing meanwhile: how long it waits for the lock
			stop, waited := make(chan struct{}), make(chan time.Duration)
			go func() {
				var most time.Duration
				for {
					select {
					case <-stop:
						waited <- most
						return
					case <-time.After(100 * time.Microsecond):
					}
					t0 := time.Now()
					e.mu.Lock()
					most = max(most, time.Since(t0))
					e.mu.Unlock()
				}
			}()
			var buf SnapshotBuffer
			b.ReportAllocs()
			b.ResetTimer()
			cpu0, _ := procstat.Self()
			for range b.N {
				if len(e.SnapshotTo(&buf, nil)) != n {
					b.Fatal("monitors missing")
				}
			}
			cpu1, _ := procstat.Self()
			b.StopTimer()
			close(stop)
			b.ReportMetric(float64((<-waited).Microseconds()), "µs-longest-wait")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/monitor")
			b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/float64(b.N)/float64(n), "cpu-ns/monitor")
		})
	}
}
