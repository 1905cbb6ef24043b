package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/bench/procstat"
)

func TestMinutesSplitTheRunsCPU(t *testing.T) {
	var m minutes
	if m.String() != "–" || !m.due(0) {
		t.Fatalf("no sample: %q, due %v", m, m.due(0))
	}
	m.sample(0, 10) // 10 CPU s before listening: not in any minute
	for _, d := range []time.Duration{2 * time.Second, 58 * time.Second} {
		if m.due(d) {
			t.Errorf("due at %v, before the first minute's end", d)
		}
	}
	if !m.due(60*time.Second + 300*time.Millisecond) {
		t.Error("not due at 60.3 s")
	}
	m.sample(60*time.Second, 34) // 24 CPU s in the first minute: 0.4 cores
	if m.due(61*time.Second) || m.due(119*time.Second) || !m.due(120*time.Second) {
		t.Error("the second minute's boundary is not at 120 s")
	}
	m.sample(120*time.Second, 49)  // 15 s: 0.25 cores
	m.sample(150*time.Second, 55)  // a half minute at the end: 6 s, 0.2 cores
	m.sample(150*time.Second, 100) // no time: no span
	if got, want := m.String(), "0.400 / 0.250 / 0.200"; got != want {
		t.Errorf("minutes = %q, want %q", got, want)
	}
}

func TestProfileWindow(t *testing.T) {
	for _, c := range []struct {
		which         string
		dur           time.Duration
		delay, length time.Duration
	}{
		{"middle", 3 * time.Minute, time.Minute, time.Minute},
		{"first", 3 * time.Minute, 0, time.Minute},
		{"first", 30 * time.Second, 0, 30 * time.Second},
		{"minutes", 5 * time.Minute, 0, time.Minute},
	} {
		d, l, err := profileWindow(c.which, c.dur)
		if err != nil || d != c.delay || l != c.length {
			t.Errorf("profileWindow(%s, %v) = %v, %v, %v; want %v, %v", c.which, c.dur, d, l, err, c.delay, c.length)
		}
	}
	if _, _, err := profileWindow("last", time.Minute); err == nil || !strings.Contains(err.Error(), "-profile-window") || !strings.Contains(err.Error(), "first") {
		t.Errorf("an unknown window: %v, want the flag named and the choices", err)
	}
}

func TestReportShowsTheMinutes(t *testing.T) {
	r := leanRow(100000)
	r.startCPU = 12.3
	r.minutes.sample(0, 12.3)
	r.minutes.sample(time.Minute, 12.3+60*0.8)
	r.minutes.sample(2*time.Minute, 12.3+60*0.8+60*0.5)
	md := report([]row{r}, 2*time.Minute, time.Minute, 20*time.Second)
	for _, want := range []string{"| CPU 1st min / 2nd / 3rd … (cores) | CPU before listening (s) |", "| 0.800 / 0.500 | 12.3 |", "- CPU a minute:"} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
}

func TestMinuteProfilesCoverTheRun(t *testing.T) {
	for _, c := range []struct {
		dur  time.Duration
		want []time.Duration
	}{
		{5 * time.Minute, []time.Duration{time.Minute, time.Minute, time.Minute, time.Minute, time.Minute}},
		{150 * time.Second, []time.Duration{time.Minute, time.Minute, 30 * time.Second}},
		{20 * time.Second, []time.Duration{20 * time.Second}},
	} {
		if got := minuteProfiles(c.dur); !slices.Equal(got, c.want) {
			t.Errorf("minuteProfiles(%v) = %v, want %v", c.dur, got, c.want)
		}
	}
	if got, want := minuteFile("/p/serve-100000-lean", 3), "/p/serve-100000-lean-cpu-min3.pprof"; got != want {
		t.Errorf("minuteFile = %q, want %q", got, want)
	}
}

func TestMemStatsFromTheHeapProfile(t *testing.T) {
	text := "heap profile: 1: 2 [3: 4] @ heap/1048576\n1: 2 [3: 4] @ 0x1\n\n# runtime.MemStats\n# Alloc = 123\n# HeapAlloc = 104857600\n# NumGC = 42\n# NumForcedGC = 1\n"
	gc, heap, ok := memStats(text)
	if !ok || gc != 42 || heap != 100<<20 {
		t.Errorf("memStats = %d, %d, %v; want 42, %d, true", gc, heap, ok, 100<<20)
	}
	if _, _, ok := memStats("heap profile: 0: 0 [0: 0] @ heap/1048576\n"); ok {
		t.Error("memStats of a profile without MemStats: ok")
	}
}

func TestReportShowsEachMinutesDetail(t *testing.T) {
	r := leanRow(100000)
	r.details = []minuteDetail{
		{Counters: procstat.Counters{User: 30, Sys: 6, MinFlt: 1000, SysR: 20, SysW: 3000, WriteBytes: 50 << 20, Threads: 9}, tests: 100000, secs: 60, rssMiB: 300, dbMiB: 80, walMiB: 32.5, gc: 12, heapMiB: 150},
		{tests: 99000, secs: 30, gc: -1},
	}
	md := report([]row{r}, 2*time.Minute, time.Minute, 20*time.Second)
	for _, want := range []string{"| minute | tests | CPU ms/test | user | sys |", "| 1 | 100000 | 0.360 | 0.500 | 0.100 | 1000 | 0 | 20 | 3000 | 0.0 | 50.0 | 12 | 150 | 300 | 80.0 | 32.5 | 9 |", "| 2 | 99000 | 0.000 | 0.000 | 0.000 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
	r.details = nil
	if md := report([]row{r}, 2*time.Minute, time.Minute, 20*time.Second); strings.Contains(md, "minute by minute") {
		t.Errorf("a run without details has their table:\n%s", md)
	}
}

func TestReportSaysTheHistory(t *testing.T) {
	r := leanRow(100000)
	if md := report([]row{r}, time.Minute, time.Minute, 0); strings.Contains(md, "results a monitor") {
		t.Errorf("a run without history says it had some:\n%s", md)
	}
	r.history, r.historyResults = 60, 6_000_000
	if md := report([]row{r}, time.Minute, time.Minute, 0); !strings.Contains(md, "At 100000 (lean) the results table held 60 results a monitor (6000000 in all, 1m0s apart") {
		t.Errorf("the report does not say the history:\n%s", md)
	}
}
