package hostile

import (
	"context"
	"time"
)

// Timed runs fn, a client given deadline d from now, and returns how long
// it took and how late the machine itself woke at that deadline: a context
// with the same deadline, set at the same moment, whose expiry wakes a
// goroutine, as a client's deadline wakes the reader it cuts off. A loaded
// machine wakes goroutines late (a tenth of a second and more at load 20);
// a test that bounds a client's overrun of its deadline adds late to its
// slack, so that it fails on the client's own overrun, not the machine's.
// late is zero when fn returned before the deadline.
func Timed(d time.Duration, fn func()) (elapsed, late time.Duration) {
	start := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(d))
	defer cancel()
	woke := make(chan time.Time, 1)
	go func() {
		<-ctx.Done()
		woke <- time.Now()
	}()
	fn()
	elapsed = time.Since(start)
	if elapsed <= d {
		return elapsed, 0
	}
	return elapsed, max((<-woke).Sub(start)-d, 0)
}

// Stalled runs fn and returns how long it took and the longest the machine
// stalled meanwhile: how late, at worst, a goroutine woken every 10 ms
// woke. A test bounding a whole exchange (a request and its answer, not
// one deadline) adds that to its slack.
func Stalled(fn func()) (elapsed, worst time.Duration) {
	const every = 10 * time.Millisecond
	stop, done := make(chan struct{}), make(chan time.Duration)
	go func() {
		var worst time.Duration
		last := time.Now()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				done <- max(worst, time.Since(last)-every)
				return
			case now := <-tick.C:
				worst = max(worst, time.Since(last)-every)
				last = now
			}
		}
	}()
	start := time.Now()
	fn()
	elapsed = time.Since(start)
	close(stop)
	return elapsed, max(<-done, 0)
}
