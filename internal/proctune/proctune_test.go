package proctune

import (
	"testing"
	"time"
)

// clock steps a fake time by whole seconds, as Run's ticker does.
type clock struct{ now time.Time }

func (c *clock) after(d time.Duration) time.Time { c.now = c.now.Add(d); return c.now }

// Samples relative to DefaultPolicy: the tests hold the logic, not its
// figures.
var (
	dp     = DefaultPolicy
	idle   = Sample{Busy: 0.05, Wait: dp.UpWait / 20}
	low    = Sample{Busy: dp.DownBusy * 2 / 3, Wait: dp.UpWait / 5}           // 20,000 monitors on one P
	middle = Sample{Busy: (dp.DownBusy + dp.UpBusy) / 2, Wait: dp.UpWait / 5} // between down and up
	busy   = Sample{Busy: dp.UpBusy + 0.3, Wait: dp.UpWait / 5}
	queued = Sample{Busy: dp.DownBusy * 2 / 3, Wait: dp.UpWait * 4}
	spike  = Sample{Busy: dp.DownBusy * 2 / 3, Wait: dp.UpWait + time.Millisecond} // just past UpWait
	slow   = Sample{Busy: dp.DownBusy * 2 / 3, Wait: dp.UpWait}                    // at UpWait: not past it
	twoCPU = Sample{Busy: 1.80, Wait: dp.UpWait / 10}                              // a load for many Ps
	empty  = Sample{Busy: 0.01}                                                    // too few waits to say
	edge   = Sample{Busy: dp.UpBusy, Wait: dp.UpWait / 5}                          // at UpBusy: not past it
)

// feed gives the tuner sample s every second for d and returns the Ps it
// wanted after each.
func feed(tu *Tuner, c *clock, s Sample, d time.Duration) []int {
	var got []int
	for range int(d / time.Second) {
		s.At = c.after(time.Second)
		got = append(got, tu.Next(s))
	}
	return got
}

func all(got []int, want int) bool {
	for _, g := range got {
		if g != want {
			return false
		}
	}
	return true
}

// down brings a new tuner with bound 4 down to one P.
func down(t *testing.T, c *clock) *Tuner {
	t.Helper()
	tu := NewTuner(DefaultPolicy, 4, 4)
	feed(tu, c, idle, DefaultPolicy.Quiet+2*time.Second)
	if tu.Procs() != 1 {
		t.Fatalf("after %v idle: %d Ps, want 1", DefaultPolicy.Quiet+2*time.Second, tu.Procs())
	}
	return tu
}

func TestStartsAtTheDefaultAndComesDownAfterAQuietSpell(t *testing.T) {
	c := &clock{now: time.Unix(1e9, 0)}
	tu := NewTuner(DefaultPolicy, 2, 2)
	if tu.Procs() != 2 {
		t.Fatalf("a new tuner wants %d Ps, want the default 2 (start-up is not slowed)", tu.Procs())
	}
	// Quiet for less than the spell: still the default.
	if got := feed(tu, c, low, DefaultPolicy.Quiet-time.Second); !all(got, 2) {
		t.Fatalf("low load for less than %v: Ps %v, want 2 throughout", DefaultPolicy.Quiet, got)
	}
	if got := feed(tu, c, low, 2*time.Second); got[len(got)-1] != 1 {
		t.Fatalf("low load for %v: Ps %v, want 1 at the end", DefaultPolicy.Quiet+time.Second, got)
	}
	// And stays there under a low load.
	if got := feed(tu, c, low, 10*time.Minute); !all(got, 1) {
		t.Errorf("low load on one P for 10 minutes: Ps left 1")
	}
}

func TestAnyLoudWindowRestartsTheQuietSpell(t *testing.T) {
	for _, loud := range []Sample{middle, busy, queued} {
		c := &clock{now: time.Unix(1e9, 0)}
		tu := NewTuner(DefaultPolicy, 2, 2)
		feed(tu, c, idle, DefaultPolicy.Quiet-5*time.Second)
		feed(tu, c, loud, time.Second)
		if got := feed(tu, c, idle, DefaultPolicy.Quiet-time.Second); !all(got, 2) {
			t.Errorf("busy %.2f wait %v in the middle of a quiet spell: came down before a whole new spell (%v)", loud.Busy, loud.Wait, got)
		}
		if got := feed(tu, c, idle, 2*time.Second); got[len(got)-1] != 1 {
			t.Errorf("busy %.2f wait %v, then a whole quiet spell: still %d Ps", loud.Busy, loud.Wait, got[len(got)-1])
		}
	}
}

func TestGoesUpAtOnce(t *testing.T) {
	for _, s := range []Sample{busy, queued, spike, twoCPU} {
		c := &clock{now: time.Unix(1e9, 0)}
		tu := down(t, c)
		if got := feed(tu, c, s, time.Second); got[0] != 4 {
			t.Errorf("one window of busy %.2f wait %v on one P: %d Ps, want the bound 4 at once", s.Busy, s.Wait, got[0])
		}
	}
}

func TestStaysAtOneUnderTheUpThresholds(t *testing.T) {
	for _, s := range []Sample{idle, low, middle, slow, empty, edge} {
		c := &clock{now: time.Unix(1e9, 0)}
		tu := down(t, c)
		if got := feed(tu, c, s, 5*time.Minute); !all(got, 1) {
			t.Errorf("busy %.2f wait %v on one P: went up (%v)", s.Busy, s.Wait, got)
		}
	}
}

// TestHysteresis: a load between the thresholds stays where it is, up or
// down, and a load that alternates around the up threshold does not flap.
func TestHysteresis(t *testing.T) {
	c := &clock{now: time.Unix(1e9, 0)}
	tu := down(t, c)
	feed(tu, c, busy, time.Second)
	if got := feed(tu, c, middle, 10*time.Minute); !all(got, 4) {
		t.Errorf("busy %.2f after going up: came down (%v)", middle.Busy, got)
	}
	changes, prev := 0, tu.Procs()
	for i := range 600 {
		s := low
		if i%20 == 0 {
			s = busy // a burst every 20 s: up, and not down between them
		}
		s.At = c.after(time.Second)
		if p := tu.Next(s); p != prev {
			changes, prev = changes+1, p
		}
	}
	if changes > 0 {
		t.Errorf("a burst every 20 s for 10 minutes: %d changes of GOMAXPROCS, want none (it stays up)", changes)
	}
}

func TestNeverAboveTheBound(t *testing.T) {
	for _, bound := range []int{1, 2, 3, 16} {
		c := &clock{now: time.Unix(1e9, 0)}
		tu := NewTuner(DefaultPolicy, bound, 64)
		for _, s := range []Sample{twoCPU, idle, twoCPU, queued, idle} {
			for _, p := range feed(tu, c, s, 2*DefaultPolicy.Quiet) {
				if p > bound || p < 1 {
					t.Fatalf("bound %d: wanted %d Ps", bound, p)
				}
			}
		}
	}
}

// TestBackOff: a load that goes up again soon after each descent doubles
// the quiet spell needed to come down, up to MaxQuiet, so that it changes
// GOMAXPROCS a few times an hour at most; a long stay on one P resets it.
func TestBackOff(t *testing.T) {
	c := &clock{now: time.Unix(1e9, 0)}
	tu := down(t, c)
	changes, prev := 0, tu.Procs()
	for range 3600 {
		s := low
		if tu.Procs() == 1 {
			s = queued // on one P the wait always grows past UpWait
		}
		s.At = c.after(time.Second)
		if p := tu.Next(s); p != prev {
			changes, prev = changes+1, p
		}
	}
	// Spells of 1, 2, 4, 8, 10, 10 … minutes, each with one window on one P.
	if changes > 20 {
		t.Errorf("a load that always goes up on one P: %d changes in an hour, want at most 20", changes)
	}
	if changes < 2 {
		t.Errorf("a load that always goes up on one P: %d changes in an hour, want it still tried", changes)
	}
	// A long stay on one P, then one rise: the next spell is Quiet again.
	for tu.Procs() != 1 {
		tu.Next(Sample{At: c.after(time.Second), Busy: low.Busy, Wait: low.Wait})
	}
	feed(tu, c, low, dp.MaxQuiet+time.Second)
	feed(tu, c, busy, time.Second)
	if got := feed(tu, c, low, dp.Quiet+time.Second); got[len(got)-1] != 1 {
		t.Errorf("after %v on one P and one rise: not down after a quiet spell of %v", dp.MaxQuiet, dp.Quiet)
	}
}
