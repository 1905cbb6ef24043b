package engine

import (
	"context"
	"time"
)

// clock is the time the cluster's loops keep their cadence by: the real
// one, or a test's.
type clock interface {
	Now() time.Time
	After(time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// every runs round at once and then once a period until round says stop
// or ctx ends. The period counts from each round's start, not its end, so
// that a slow round does not push every later one back: a heartbeat or a
// lease round that paused a whole period after its work came later each
// time on a busy machine, until a heartbeat expired or a dead node's
// leases were taken a round late. A round that overran its period is
// followed by the next at once, and by one only: rounds never run
// together, and a stall is not made up with a burst of rounds.
func every(ctx context.Context, clk clock, period time.Duration, round func() bool) {
	for ctx.Err() == nil {
		start := clk.Now()
		if !round() {
			return
		}
		wait := period - clk.Now().Sub(start)
		if wait <= 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-clk.After(wait):
		}
	}
}
