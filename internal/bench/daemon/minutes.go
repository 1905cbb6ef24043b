package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/bench/procstat"
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
	case "minutes":
		// One profile a minute from when serve listened, each its own
		// file (profileFile): the minutes column's windows.
		return 0, time.Minute, nil
	}
	return 0, 0, fmt.Errorf("-profile-window %q: first (serve's first minute, every monitor's first test), middle (the middle third of the run) or minutes (a profile of each minute from serve's listening)", which)
}

// minuteProfiles is the length of each consecutive CPU profile of a run
// of dur, a minute each from when serve listened (the last one what is
// left): the windows of the minutes column.
func minuteProfiles(dur time.Duration) []time.Duration {
	var out []time.Duration
	for at := time.Duration(0); at < dur; at += time.Minute {
		out = append(out, min(time.Minute, dur-at))
	}
	return out
}

// minuteFile is the CPU profile of minute i (from 1) under prefix.
func minuteFile(prefix string, i int) string { return fmt.Sprintf("%s-cpu-min%d.pprof", prefix, i) }

// minuteDetail is what serve did in one minute beside its CPU, to tell
// where a minute's CPU went: from /proc, the database's files and, with
// -profile, the Go runtime's memory statistics.
type minuteDetail struct {
	procstat.Counters         // over the minute
	tests             int64   // the tests serve started in the minute
	secs              float64 // the minute's length (the last one may be shorter)
	rssMiB            float64 // at its end
	dbMiB, walMiB     float64 // the database file and its WAL, at its end
	gc                int64   // GC cycles in the minute; -1: not known
	heapMiB           float64 // the Go heap in use at its end (HeapAlloc); 0: not known
}

// String is one minute's line of the report's table.
func (d minuteDetail) String() string {
	gc, heap := "–", "–"
	if d.gc >= 0 {
		gc = fmt.Sprint(d.gc)
	}
	if d.heapMiB > 0 {
		heap = fmt.Sprintf("%.0f", d.heapMiB)
	}
	perTest := "–"
	if d.tests > 0 {
		perTest = fmt.Sprintf("%.3f", (d.User+d.Sys)*1000/float64(d.tests))
	}
	return fmt.Sprintf("%d | %s | %.3f | %.3f | %d | %d | %d | %d | %.1f | %.1f | %s | %s | %.0f | %.1f | %.1f | %d",
		d.tests, perTest, d.User/max(d.secs, 1), d.Sys/max(d.secs, 1), d.MinFlt, d.MajFlt, d.SysR, d.SysW, float64(d.ReadBytes)/(1<<20), float64(d.WriteBytes)/(1<<20),
		gc, heap, d.rssMiB, d.dbMiB, d.walMiB, d.Threads)
}

// memStats reads NumGC and HeapAlloc from the runtime.MemStats that the
// heap profile's text form (debug=1) ends with; ok is false when either
// is missing.
func memStats(text string) (numGC int64, heapAlloc int64, ok bool) {
	var gotGC, gotHeap bool
	for _, l := range strings.Split(text, "\n") {
		if v, found := strings.CutPrefix(l, "# NumGC = "); found {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			numGC, gotGC = n, err == nil
		}
		if v, found := strings.CutPrefix(l, "# HeapAlloc = "); found {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			heapAlloc, gotHeap = n, err == nil
		}
	}
	return numGC, heapAlloc, gotGC && gotHeap
}
