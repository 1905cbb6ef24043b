package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/bench/harness"
)

func TestScheduleSpreadsFetchesAfterTheStart(t *testing.T) {
	s := schedule(60*time.Second, 20*time.Second, 3)
	want := []slot{{20 * time.Second, 0}, {20*time.Second + 20*time.Second/3, 1}, {20*time.Second + 40*time.Second/3, 2},
		{40 * time.Second, 0}, {40*time.Second + 20*time.Second/3, 1}, {40*time.Second + 40*time.Second/3, 2}}
	if len(s) != len(want) {
		t.Fatalf("schedule(60s, 20s, 3) = %v, want %v", s, want)
	}
	for i := range want {
		if s[i] != want[i] {
			t.Errorf("slot %d = %v, want %v", i, s[i], want[i])
		}
	}
	// The make target's 3 minutes: 8 fetches of each endpoint, the last
	// before the run ends.
	s = schedule(3*time.Minute, 20*time.Second, 3)
	per := map[int]int{}
	for _, x := range s {
		per[x.endpoint]++
		if x.at <= 0 || x.at >= 3*time.Minute {
			t.Errorf("slot at %v: outside the run", x.at)
		}
	}
	if per[0] != 8 || per[1] != 8 || per[2] != 8 {
		t.Errorf("fetches per endpoint over 3 min: %v, want 8 each", per)
	}
	if s := schedule(15*time.Second, 20*time.Second, 3); len(s) != 0 {
		t.Errorf("a run shorter than the period: %v, want no fetch", s)
	}
	if s := schedule(time.Minute, 0, 3); len(s) != 0 {
		t.Errorf("period 0: %v, want no fetch", s)
	}
}

func TestSummarizeAnswers(t *testing.T) {
	ms := time.Millisecond
	a := summarize("/metrics", []fetch{{took: 50 * ms, bytes: 100}, {took: 190 * ms, bytes: 300, encoding: "gzip", unzipped: 3000}, {took: 120 * ms, bytes: 200}})
	if a.n != 3 || a.errs != 0 || a.p50 != 120*ms || a.max != 190*ms || a.bytes != 300 || a.encoding != "gzip" || a.unzipped != 3000 || !a.measured || !a.met {
		t.Errorf("three fetches under 200 ms: %+v", a)
	}
	a = summarize("board /", []fetch{{took: 50 * ms}, {took: 200 * ms}})
	if !a.measured || a.met || a.max != 200*ms {
		t.Errorf("a fetch of 200 ms (the goal is within 200 ms): %+v", a)
	}
	a = summarize("board /", []fetch{{took: 50 * ms}, {took: 3 * ms, err: errors.New("HTTP 303 /login")}})
	if a.measured || a.met || a.errs != 1 || a.firstErr != "HTTP 303 /login" || a.max != 50*ms {
		t.Errorf("a failed fetch: %+v", a)
	}
	if a = summarize("x", nil); a.measured || a.met {
		t.Errorf("no fetch: %+v", a)
	}
}

// leanRow is a run of the lean mix at n monitors, with every figure in.
func leanRow(n int) row {
	return row{monitors: n, mix: mixes["lean"], cores: 0.5, rssMiB: 900, lagP99: 20, testsPerSec: 1000,
		raw:      map[string]float64{"smtp-starttls": 0.6, "smtp-banner": 0.1, "tcp": 0.02}, // the mix: 0.06+0.045+0.009 = 0.114 ms
		rawPaced: 0.4, rawPacedLate: 300 * time.Microsecond, apply: harness.Applied{Wall: 42 * time.Second, CPU: 30},
		answers: []answers{
			{name: "/metrics", n: 8, p50: 90 * time.Millisecond, max: 1050 * time.Millisecond, measured: true},
			{name: steadyMetrics, n: 6, p50: 80 * time.Millisecond, max: 150 * time.Millisecond, measured: true, met: true},
			{name: "board /", n: 8, p50: 180 * time.Millisecond, max: 250 * time.Millisecond, measured: true},
			{name: "GET /api/v1/monitors", n: 8, p50: 5 * time.Millisecond, max: 9 * time.Millisecond, measured: true, met: true},
		}}
}

func TestRatiosToBothBaselines(t *testing.T) {
	r := leanRow(100000)
	if got := r.cpuPerTest(); got != 0.5 {
		t.Errorf("CPU per test = %v ms, want 0.5 (0.5 cores at 1,000 tests/s)", got)
	}
	if got := r.rawPerTest(); got < 0.1139 || got > 0.1141 {
		t.Errorf("raw per test of the lean mix = %v, want 0.114", got)
	}
	if got := r.pacedRatio(); got != 1.25 {
		t.Errorf("paced ratio = %v, want 1.25", got)
	}
	r.rawPacedErr, r.rawErr = "raw paced at 1000/s: 0 ok", "raw tcp: refused"
	if r.pacedRatio() != 0 || r.ratio() != 0 {
		t.Errorf("a failed baseline gives ratios %v and %v, want none", r.ratio(), r.pacedRatio())
	}
}

func TestVerdictsAreComputed(t *testing.T) {
	lines := verdicts(leanRow(100000))
	want := []string{
		"Goal 3, CPU ≤ 1.5× raw for the same mix, at 100000 (lean): 4.39× the saturated raw socket: **not met**",
		"Goal 3, CPU ≤ 1.5× raw for the same mix, at 100000 (lean): 1.25× the paced raw socket: met",
		"Goal 3, ≤ 1 GiB RSS, at 100000 (lean): 900 MiB peak: met",
		"Goal 3, lag p99 < 1 s (the worst second), at 100000 (lean): 20.0 ms: met",
		"Goal 3, the web board's first page within 200 ms, at 100000 (lean): max 250 ms (p50 180 ms) over 8 fetches: **not met**",
		"Goal 3, `/metrics` within 200 ms, every scrape, at 100000 (lean): max 1050 ms (p50 90 ms) over 8 fetches: **not met**",
		"Goal 3, `/metrics` within 200 ms, a steady scraper's answers (3rd scrape on, rendered ahead), at 100000 (lean): max 150 ms (p50 80 ms) over 6 fetches: met",
		"Goal 3, `apply` of the file in under 60 s, at 100000 (lean): 42.0 s (30.0 CPU s): met",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("verdicts:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}

	r := leanRow(3000)
	r.rawPaced, r.rawPacedErr = 0, "raw paced at 50/s: 3 ok, 1 errors: refused"
	r.apply.Wall = 61 * time.Second
	lines = verdicts(r)
	for _, l := range lines {
		if !strings.HasSuffix(l, "(the goal is set at 100000 monitors)") {
			t.Errorf("a run of 3000 says not that the goal is set at 100000: %s", l)
		}
	}
	if !strings.Contains(lines[1], "the paced raw baseline: raw paced at 50/s: 3 ok, 1 errors: refused: not measured") {
		t.Errorf("a failed paced baseline: %s", lines[1])
	}
	if !strings.Contains(lines[7], "61.0 s (30.0 CPU s): **not met**") {
		t.Errorf("an apply of 61 s: %s", lines[7])
	}

	r = leanRow(100000)
	r.answers = nil // -answer-every 0
	if l := verdicts(r)[5]; !strings.HasSuffix(l, "not fetched (-answer-every 0): not measured") {
		t.Errorf("no answers asked for: %s", l)
	}
	r.answers = []answers{{name: "/metrics"}}
	if l := verdicts(r)[5]; !strings.HasSuffix(l, "not fetched (the run is shorter than -answer-every): not measured") {
		t.Errorf("a run too short for a fetch: %s", l)
	}

	ca := row{monitors: 20000, mix: mixes["ca"], cores: 0.25, rssMiB: 300, lagP99: 1000, bytesPerResult: 35, testsPerSec: 333.3,
		wall: 180, startWall: 2, startCPU: 10} // (45 + 10) / 182 = 0.302 cores from exec
	lines = verdicts(ca)
	for i, w := range []string{"0.250 cores from listening: met",
		"0.302 cores from serve's exec (10.0 CPU s in the 2.0 s before it listened): **not met**", "300 MiB: **not met**", "1000.0 ms: **not met**", "35.0 bytes: met",
		"no baseline (-raw-window 0): not measured", "no baseline (-raw-window 0): not measured"} {
		if !strings.HasSuffix(lines[i], w) || strings.Contains(lines[i], "the goal is set at") {
			t.Errorf("ca line %d: %s, want it to end with %q", i, lines[i], w)
		}
	}
	// a stall seen only by the per-second polls (the end's ring was past it)
	stalled := leanRow(100000)
	stalled.lagP99, stalled.lagP99Worst = 20, 6300
	found := false
	for _, l := range verdicts(stalled) {
		if strings.Contains(l, "lag p99 < 1 s") {
			found = true
			if !strings.HasSuffix(l, "6300.0 ms: **not met**") {
				t.Errorf("a run that stalled 6.3 s mid-way: %s", l)
			}
		}
	}
	if !found {
		t.Error("no lag line for goal 3")
	}
	if len(verdicts(row{monitors: 10, mix: mixes["banner"]})) != 0 {
		t.Error("the banner mix has goal lines; no goal is set for it")
	}
}

func TestReportShowsBothBaselinesAndTheAnswers(t *testing.T) {
	md := report([]row{leanRow(100000)}, 3*time.Minute, time.Minute, 20*time.Second)
	for _, want := range []string{
		"| × raw | raw CPU ms/check (same mix, paced at the same tests/s) | × raw paced |",
		"| 0.114 | 4.39 | 0.400 | 1.25 |",
		"| 100000 | lean | 42.0 | 30.0 |",
		"| 100000 | lean | board / | 8 | 180.0 | 250.0 | 0.0 | **not met** |",
		"| 100000 | lean | the mix, paced at 1000/s (starts p99 0.3 ms late) | 0.400 | 0.007 |",
		"- Goal 3, `/metrics` within 200 ms",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
}

func TestSteadyMetricsAreTheThirdScrapeOn(t *testing.T) {
	ms := time.Millisecond
	fs := []fetch{{took: 900 * ms}, {took: 800 * ms}, {took: 60 * ms}, {took: 70 * ms}}
	a := summarize(steadyMetrics, steady(fs))
	if a.n != 2 || a.max != 70*ms || !a.met {
		t.Errorf("from the third of four fetches: %+v, want 2 fetches, max 70 ms, met", a)
	}
	if got := steady(fs[:2]); got != nil {
		t.Errorf("two fetches: %v, want none steady", got)
	}
}
