//go:build unix

package metrics

import (
	"fmt"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time the process used so far (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScrape scrapes /metrics of n smtp monitors, each tested once
// (four phases), the body thrown away: "unchanged" when no monitor was
// tested since the last scrape, "all-changed" when every one was (the
// first scrape; B/op divided by n is then what rendering a monitor
// allocates). At 60 s and a 15 s scrape interval a quarter of the
// monitors changed between two scrapes.
func BenchmarkScrape(b *testing.B) {
	for _, n := range []int{2000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchmarkScrape(b, n) })
	}
}

func benchmarkScrape(b *testing.B, n int) {
	e := testedEngine(b, n)
	for _, changed := range []bool{false, true} {
		name := "unchanged"
		if changed {
			name = "all-changed"
		}
		b.Run(name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/metrics", nil)
			h := Handler(e, Options{})
			h.ServeHTTP(&discard{}, req)
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			for range b.N {
				if changed {
					b.StopTimer()
					h = Handler(e, Options{}) // nothing rendered yet
					b.StartTimer()
				}
				h.ServeHTTP(&discard{}, req)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/monitor")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/scrape")
			// On a loaded machine the wall time is mostly waiting for a
			// core; all-changed counts making each new handler too.
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1e3/float64(b.N), "cpu-ms/scrape")
		})
	}
}
