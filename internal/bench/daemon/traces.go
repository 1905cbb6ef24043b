package main

import (
	"fmt"
	"strings"
	"time"
)

// traceSet is when runtime/traces of serve are taken (-trace): windows of
// length each, at offsets from when serve listened, to read what a
// goroutine waited for (running, runnable, blocked, in a syscall) across
// a /metrics render.
type traceSet struct {
	at     []time.Duration
	length time.Duration
}

// traceWindows parses -trace's offsets (list: "19s,77s"); they need
// -profile's folder (serve's pprof listener, and where they are saved).
func traceWindows(list string, length time.Duration, profile string) (traceSet, error) {
	var t traceSet
	if list == "" {
		return t, nil
	}
	if profile == "" {
		return t, fmt.Errorf("-trace needs -profile (serve's pprof listener, and the folder the traces go to)")
	}
	if length <= 0 {
		return t, fmt.Errorf("-trace-for %v: not a length", length)
	}
	for _, f := range strings.Split(list, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d < 0 {
			return t, fmt.Errorf("-trace %q: %q is not an offset such as 19s", list, f)
		}
		t.at = append(t.at, d)
	}
	t.length = length
	return t, nil
}

// take saves each window's trace from serve's pprof listener (addr) to
// prefix-trace-OFFSET.out, the offsets from start, until stop closes; the
// channel returned closes when it is done.
func (t traceSet) take(addr, prefix string, start time.Time, stop <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, at := range t.at {
			timer := time.NewTimer(time.Until(start.Add(at)))
			select {
			case <-stop:
				timer.Stop()
				return
			case <-timer.C:
			}
			secs := fmt.Sprintf("%g", t.length.Seconds())
			saveProfile(addr, "trace?seconds="+secs, fmt.Sprintf("%s-trace-%v.out", prefix, at))
		}
	}()
	return done
}
