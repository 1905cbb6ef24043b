package main

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPaceSpreadsChecksEvenly(t *testing.T) {
	for _, rate := range []float64{1667, 333.3, 50, 0.5} {
		gap := time.Duration(float64(time.Second) / rate)
		if pace(rate, 0) != 0 {
			t.Errorf("rate %v: the first check starts at %v, want 0", rate, pace(rate, 0))
		}
		for i := 1; i < 5000; i++ {
			if d := pace(rate, i) - pace(rate, i-1); d < gap-time.Nanosecond || d > gap+time.Nanosecond {
				t.Fatalf("rate %v: checks %d and %d are %v apart, want %v", rate, i-1, i, d, gap)
			}
		}
	}
	if got := pace(1667, 1667); got != time.Second {
		t.Errorf("the 1667th check at 1667/s starts at %v, want 1 s", got)
	}
}

func TestParseShares(t *testing.T) {
	if p, err := parseShares("", 1); err != nil || len(p) != 1 || p[0] != 100 {
		t.Errorf(`one check, no -shares: %v %v`, p, err)
	}
	if p, err := parseShares("10, 45,45", 3); err != nil || p[0] != 10 || p[1] != 45 || p[2] != 45 {
		t.Errorf("10,45,45: %v %v", p, err)
	}
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"", 3, "1 percentages for 3 checks"},
		{"50,50", 3, "2 percentages for 3 checks"},
		{"10,45,40", 3, "add up to 95, not 100"},
		{"10,x,90", 3, `"x" is not a percentage`},
		{"110,-10", 2, `"-10" is not a percentage`},
	} {
		_, err := parseShares(c.s, c.n)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "-shares") {
			t.Errorf("parseShares(%q, %d) = %v, want an error about -shares with %q", c.s, c.n, err, c.want)
		}
	}
}

// TestPacedCountsTheChecksStartedInTheWindow: which checks count is
// decided by their place in the pace, not by the clock: at 1,000/s with
// 10 ms of warm-up and a 30 ms window, checks 10–39 are counted and 0–9
// run uncounted; the window is bracketed once.
func TestPacedCountsTheChecksStartedInTheWindow(t *testing.T) {
	var (
		mu             sync.Mutex
		calls          []int
		started, ended int
	)
	o := paced(1000, 10*time.Millisecond, 30*time.Millisecond, func(i int) (sample, error) {
		mu.Lock()
		calls = append(calls, i)
		mu.Unlock()
		if i%2 == 1 {
			return sample{}, errors.New("odd")
		}
		return sample{reported: time.Millisecond}, nil
	}, func() { started++ }, func() { ended++ })
	if started != 1 || ended != 1 {
		t.Errorf("the window opened %d times and closed %d, want once each", started, ended)
	}
	slices.Sort(calls)
	if len(calls) != 40 || calls[0] != 0 || calls[39] != 39 {
		t.Errorf("checks run: %v, want 0–39 (40 ms at 1,000/s)", calls)
	}
	if o.ok != 15 || o.errs != 15 || o.firstErr != "odd" || len(o.latencies) != 15 {
		t.Errorf("counted %d ok, %d errors (%q), %d latencies; want checks 10–39 counted: 15 ok, 15 errors", o.ok, o.errs, o.firstErr, len(o.latencies))
	}
	if o.window <= 0 || o.lateP99 < 0 {
		t.Errorf("window %v, late p99 %v", o.window, o.lateP99)
	}
}
