package hostile

import (
	"context"
	"testing"
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

// Deadline is the deadline the hostile tests give a client that must wait
// for it (a silent or a dripping server).
const Deadline = 1500 * time.Millisecond

// DripEvery is how often a dripping server sends a byte in the hostile
// tests (Drip): just under Deadline, so that a client whose deadline
// restarts with every read never reaches it (it ends when the greeting is
// done, half a minute on), and one that looks at its deadline only
// between reads ends at the first byte after it, 2*DripEvery - Deadline =
// 1.3 s past it.
const DripEvery = 1400 * time.Millisecond

// Overrun is how far past its deadline a client may end in a hostile test,
// beside how late the machine woke at that deadline (Timed's late). It is
// set by what the tests must catch, not by the machine's speed: a client
// that ignores its deadline never ends against a silent server (Hang),
// and against a dripping one ends half a minute late, or 1.3 s late if it
// looks at the deadline between reads (DripEvery). A client that honours
// its deadline still has work after it (its reader woken, the error
// classified, the connection closed) that a loaded machine stretches far
// past what late measures (one goroutine woken): up to 445 ms in 1,624
// such ends at load 6-16 under the race detector, against the 100 ms
// allowed before (149 ms failed at load 20). A second sits between the
// two.
const Overrun = time.Second

// CheckDeadline fails t unless a client given deadline d, which took
// elapsed and whose machine woke late at the deadline (Timed), ended by
// its deadline: within d + Overrun + late.
func CheckDeadline(t testing.TB, d, elapsed, late time.Duration) {
	t.Helper()
	if limit := d + Overrun + late; elapsed > limit {
		t.Errorf("took %v, more than %v: the %v deadline + %v + %v the machine woke late", elapsed, limit, d, Overrun, late)
	}
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
