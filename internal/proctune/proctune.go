// Package proctune runs a long-running daemon on one P while its work fits
// comfortably in one core, and on the runtime's default GOMAXPROCS
// otherwise.
//
// With two or more Ps, each network wake-up of an idle daemon's goroutine
// may wake an idle P's thread as well (a futex wake, a spinning M looking
// for work, on a VM an interrupt to an idle vCPU): measured on "mailmon
// serve" with 20,000 monitors on 2 cores, one P spent about a tenth less
// CPU for the same tests. One P cannot serve more than one core of work,
// though, and goroutines that wait for it wait in every test's measured
// round trip; so the tuner raises the Ps back to the runtime's default as
// soon as the work passes a share of one core or the runnable goroutines'
// wait for a P grows, and lowers them again only after a sustained quiet
// spell: with hysteresis, so that it never flaps.
//
// The runtime is left alone when GOMAXPROCS is set in the environment (the
// operator's choice) or when its default is one P already.
package proctune

import (
	"time"
)

// Policy holds the tuner's thresholds. Busy is CPU in cores (CPU seconds
// a wall second, the whole process); Wait is the p99 of how long runnable
// goroutines waited for a P over a window.
type Policy struct {
	// UpBusy and UpWait raise the Ps at once (from one to the default)
	// when a window's busy share passes UpBusy or its wait p99 UpWait.
	UpBusy float64
	UpWait time.Duration
	// DownBusy and Quiet lower them to one once every window for Quiet
	// kept under DownBusy (and under UpWait: a window that would raise the
	// Ps again at once is no quiet one).
	DownBusy float64
	Quiet    time.Duration
	// MaxQuiet bounds the back-off: the Ps raised again within MaxQuiet of
	// coming down double the quiet spell needed to come down next time,
	// up to MaxQuiet; a stay of MaxQuiet on one P resets it to Quiet. So a
	// load that goes back and forth across the thresholds changes
	// GOMAXPROCS a few times an hour at most.
	MaxQuiet time.Duration
}

// DefaultPolicy is mailmon serve's; docs/operations.md and
// bench/results/proctune-2026-12-07.md give the figures behind it. The gap
// between up (0.6 of one core) and down (0.45 on the default's Ps, which
// spend about an eighth more for the same work than one P) is the
// hysteresis. The wait's 20 ms is past what 5 s windows on two Ps showed
// with 20,000 monitors at loads up to ~5 on 2 cores (1.6-17 ms p99), and
// under what one P showed as the host grew busier (10-671 ms).
var DefaultPolicy = Policy{
	UpBusy:   0.6,
	UpWait:   20 * time.Millisecond,
	DownBusy: 0.45,
	Quiet:    30 * time.Second,
	MaxQuiet: 10 * time.Minute,
}

// Sample is one window's measure, taken at At.
type Sample struct {
	At   time.Time
	Busy float64       // CPU cores used over the window
	Wait time.Duration // p99 wait for a P over the window; 0 if too few were seen
}

// Tuner is the decision: a state machine over samples, with no clock or
// runtime of its own.
type Tuner struct {
	policy Policy
	bound  int // the runtime's default GOMAXPROCS: the most it sets
	procs  int
	quiet  time.Time     // when the current quiet spell began; zero if none
	spell  time.Duration // the quiet spell needed to come down now
	down   time.Time     // when the Ps last came down to one; zero if never
}

// NewTuner starts at procs Ps (the runtime's default at start-up, so that
// loading and the first tests are not slowed) with bound as the most.
func NewTuner(p Policy, bound, procs int) *Tuner {
	return &Tuner{policy: p, bound: max(bound, 1), procs: min(max(procs, 1), max(bound, 1)), spell: p.Quiet}
}

// Procs is the number of Ps the tuner wants now.
func (t *Tuner) Procs() int { return t.procs }

// Next takes a window's sample and returns the Ps wanted from now on.
func (t *Tuner) Next(s Sample) int {
	p := t.policy
	if t.procs == 1 {
		if s.Busy > p.UpBusy || s.Wait > p.UpWait {
			t.procs, t.quiet = t.bound, time.Time{}
			if s.At.Sub(t.down) < p.MaxQuiet {
				t.spell = min(2*t.spell, max(p.MaxQuiet, p.Quiet))
			} else {
				t.spell = p.Quiet
			}
		}
		return t.procs
	}
	if s.Busy >= p.DownBusy || s.Wait > p.UpWait {
		t.quiet = time.Time{}
		return t.procs
	}
	if t.quiet.IsZero() {
		t.quiet = s.At
	}
	if s.At.Sub(t.quiet) >= t.spell {
		t.procs, t.quiet, t.down = 1, time.Time{}, s.At
	}
	return t.procs
}
