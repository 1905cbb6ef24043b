package procstat

import (
	"runtime/metrics"
	"testing"
)

// PerOp runs fn as b's loop and reports, beside its allocations, per call:
// the process's CPU time, the goroutines started and the threads put to
// sleep (Self). In-process benchmarks that set a client beside the server
// it drives (the responder's work is in every row alike) compare rows.
func PerOp(b *testing.B, fn func() error) {
	b.Helper()
	b.ReportAllocs()
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	before := s[0].Value.Uint64()
	cpu0, sw0 := Self()
	for b.Loop() {
		if err := fn(); err != nil {
			b.Fatal(err)
		}
	}
	cpu, sw := Self()
	metrics.Read(s)
	b.ReportMetric(float64(s[0].Value.Uint64()-before)/float64(b.N), "goroutines/op")
	b.ReportMetric(float64((cpu-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(sw-sw0)/float64(b.N), "sleeps/op")
}
