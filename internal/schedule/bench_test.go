package schedule

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/bench/procstat"
)

// BenchmarkRun dispatches b.N tests of 1,000 monitors, each every second
// (1,000 tests/s, the daemon's regime: 333 to 1,667) with a test that does
// nothing, and reports the
// process's CPU and its threads' sleeps per test: the scheduler's own cost
// of a test.
func BenchmarkRun(b *testing.B) {
	var left atomic.Int64
	left.Store(int64(b.N))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := New(func(context.Context, int64) time.Duration {
		if left.Add(-1) == 0 {
			cancel()
		}
		return time.Second
	}, 256, nil)
	now := time.Now()
	for id := int64(1); id <= 1000; id++ {
		s.Add(id, Spread(id, time.Second, now), time.Second)
	}
	cpu0, sw0 := procstat.Self()
	b.ResetTimer()
	s.Run(ctx)
	b.StopTimer()
	cpu, sw := procstat.Self()
	b.ReportMetric(float64((cpu-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/test")
	b.ReportMetric(float64(sw-sw0)/float64(b.N), "sleeps/test")
}
