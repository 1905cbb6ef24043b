package main

import (
	"strings"
	"testing"
	"time"
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
