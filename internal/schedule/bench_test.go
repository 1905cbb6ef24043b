package schedule

import (
	"context"
	"math/rand/v2"
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

// BenchmarkQueue takes the first due of 100,000 queued monitors and puts it
// back an interval later, as Run and requeue do for every test: the
// queue's own cost of a test at the daemon's largest size, with the jobs
// scattered in memory as a long-running daemon's are.
func BenchmarkQueue(b *testing.B) {
	const n = 100_000
	s := New(func(context.Context, int64) time.Duration { return time.Minute }, 1, nil)
	now := time.Now()
	for _, id := range rand.New(rand.NewPCG(1, 2)).Perm(n) {
		s.Add(int64(id+1), Spread(int64(id+1), time.Minute, now), time.Second)
	}
	b.ResetTimer()
	for range b.N {
		s.mu.Lock()
		j := s.queue.pop()
		s.mu.Unlock()
		s.requeue(j, s.epoch.Add(j.at+time.Minute))
	}
}
