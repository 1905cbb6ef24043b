package engine

import (
	"context"
	"testing"
	"time"
)

// fakeClock moves only when told: a round's work advances it by the
// round's length, and After advances it by the wait and fires at once.
type fakeClock struct {
	now   time.Time
	waits []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// TestEveryKeepsTheCadence: the cluster's rounds (heartbeats, lease
// rounds, a drain's) start a period apart whatever their work took; a
// round that overran is followed by the next at once, but by one only
// (no burst to make up for a stall), and never while it runs.
func TestEveryKeepsTheCadence(t *testing.T) {
	const period = 600 * time.Millisecond
	took := []time.Duration{100, 900, 100, 2000, 100, 600, 0, 250}
	for i := range took {
		took[i] *= time.Millisecond
	}
	clk := &fakeClock{now: time.Unix(1e9, 0)}
	var starts, ends []time.Time
	every(context.Background(), clk, period, func() bool {
		starts = append(starts, clk.now)
		clk.now = clk.now.Add(took[len(starts)-1])
		ends = append(ends, clk.now)
		return len(starts) < len(took)
	})
	if len(starts) != len(took) {
		t.Fatalf("%d rounds, want %d", len(starts), len(took))
	}
	for i := 1; i < len(starts); i++ {
		gap, want := starts[i].Sub(starts[i-1]), max(period, took[i-1])
		if gap != want {
			t.Errorf("round %d started %v after round %d, which took %v; want %v (a period from its start, or at once when it overran)",
				i, gap, i-1, took[i-1], want)
		}
		if starts[i].Before(ends[i-1]) {
			t.Errorf("round %d started before round %d ended", i, i-1)
		}
	}
	for _, w := range clk.waits {
		if w <= 0 || w > period {
			t.Errorf("waited %v between rounds, want within (0, %v]", w, period)
		}
	}
}

// TestEveryStops: every returns when its context ends, without another
// round.
func TestEveryStops(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1e9, 0)}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	every(ctx, clk, time.Second, func() bool {
		n++
		clk.now = clk.now.Add(2 * time.Second) // overran: no wait to notice ctx in
		if n == 3 {
			cancel()
		}
		return true
	})
	if n != 3 {
		t.Errorf("%d rounds, want 3 (the context ended in the third)", n)
	}
}
