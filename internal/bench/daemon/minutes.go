package main

import (
	"fmt"
	"strings"
	"time"
)

// minutes are serve's CPU over each minute of a run, from its start
// (the last one shorter if the run is not whole minutes): the first
// minute has every monitor's first test, the others the steady state.
type minutes struct {
	at  []time.Duration // each sample's time from the start; at[0] = 0
	cpu []float64       // the process's CPU seconds then
}

// sample records the process's CPU seconds at d from the start.
func (m *minutes) sample(d time.Duration, cpu float64) {
	m.at, m.cpu = append(m.at, d), append(m.cpu, cpu)
}

// cores are the average cores of each span between two samples.
func (m minutes) cores() []float64 {
	var out []float64
	for i := 1; i < len(m.at); i++ {
		if s := (m.at[i] - m.at[i-1]).Seconds(); s > 0 {
			out = append(out, (m.cpu[i]-m.cpu[i-1])/s)
		}
	}
	return out
}

// String is the cores of each minute, "0.412 / 0.265 / 0.258", or "–".
func (m minutes) String() string {
	c := m.cores()
	if len(c) == 0 {
		return "–"
	}
	parts := make([]string, len(c))
	for i, x := range c {
		parts[i] = fmt.Sprintf("%.3f", x)
	}
	return strings.Join(parts, " / ")
}

// due is whether a minute boundary has passed since the last sample: the
// next boundary is a whole minute after the start.
func (m minutes) due(d time.Duration) bool {
	if len(m.at) == 0 {
		return true
	}
	return d >= m.at[len(m.at)-1].Truncate(time.Minute)+time.Minute
}

// profileWindow is when serve's CPU profile is taken: its delay from the
// start and its length, for a run of dur.
func profileWindow(which string, dur time.Duration) (delay, length time.Duration, err error) {
	switch which {
	case "middle":
		return dur / 3, dur / 3, nil
	case "first":
		return 0, min(time.Minute, dur), nil
	}
	return 0, 0, fmt.Errorf("-profile-window %q: first (serve's first minute, every monitor's first test) or middle (the middle third of the run)", which)
}
