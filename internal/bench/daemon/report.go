package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/bench/harness"
	"github.com/mailmon/mailmon/internal/bench/procstat"
)

// coresPer1000 is the cores 1,000 monitors at 60 s take at ms CPU
// milliseconds per test.
func coresPer1000(ms float64) float64 { return ms * 1000 / 60 / 1000 }

func report(rows []row, dur, interval, answerEvery time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# mailmon serve at scale, %s\n\n", time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, "Machine: %s. Each run measured %v from serve's start (start-up included); monitors test loopback responders every %v.\n\n",
		procstat.Machine(), dur, interval)
	for _, r := range rows {
		if r.history > 0 {
			aged := ""
			if r.historyAge > 0 {
				aged = fmt.Sprintf(", ending %v before serve started (-history-age: its first janitor pass prunes those past the raw retention)", r.historyAge)
			}
			fmt.Fprintf(&b, "At %d (%s) the results table held %d results a monitor (%d in all, %v apart: -history%s) before serve started; the monitors had no status (never tested), as in a run without.\n\n", r.monitors, r.mix.name, r.history, r.historyResults, interval, aged)
		}
	}
	b.WriteString("Mixes:\n")
	seen := map[string]bool{}
	for _, r := range rows {
		if !seen[r.mix.name] {
			seen[r.mix.name] = true
			fmt.Fprintf(&b, "- %s: %s\n", r.mix.name, r.mix.describe())
		}
	}
	b.WriteString("\n| monitors | mix | CPU (cores, avg) | peak RSS (MiB) | RSS/monitor (KiB) | lag p50 (ms) | lag p99 (ms) | lag p99, worst second (ms) | tests | tests/s | CPU ms/test | raw CPU ms/check (same mix, saturated) | × raw | raw CPU ms/check (same mix, paced at the same tests/s) | × raw paced | bytes/result | load avg (start → end) | CPU 1st min / 2nd / 3rd … (cores) | CPU before listening (s) |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		raw, ratio := "–", "–"
		if r.ratio() > 0 {
			raw, ratio = fmt.Sprintf("%.3f", r.rawPerTest()), fmt.Sprintf("%.2f", r.ratio())
		}
		paced, pratio := "–", "–"
		if r.pacedRatio() > 0 {
			paced, pratio = fmt.Sprintf("%.3f", r.rawPaced), fmt.Sprintf("%.2f", r.pacedRatio())
		}
		fmt.Fprintf(&b, "| %d | %s | %.3f | %.0f | %.1f | %.1f | %.1f | %.1f | %d | %.0f | %.3f | %s | %s | %s | %s | %.1f | %s → %s | %s | %.1f |\n",
			r.monitors, r.mix.name, r.cores, r.rssMiB, r.kibPerMonitor(), r.lagP50, r.lagP99, r.lagP99Worst, r.tests, r.testsPerSec, r.cpuPerTest(), raw, ratio, paced, pratio, r.bytesPerResult, r.load0, r.load1, r.minutes, r.startCPU)
	}

	for _, r := range rows {
		if len(r.details) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\nserve at %d (%s) minute by minute: the tests serve started and its CPU per test (user and system time over them), its CPU (user, system) in cores; page faults, read and write system calls, bytes read from and written to storage (/proc/PID/io), the Go heap and GC cycles (with -profile), RSS, the database and its WAL at the minute's end:\n\n| minute | tests | CPU ms/test | user | sys | minflt | majflt | read calls | write calls | read MiB | written MiB | GCs | heap MiB | RSS MiB | db MiB | WAL MiB | threads |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n", r.monitors, r.mix.name)
		for i, d := range r.details {
			fmt.Fprintf(&b, "| %d | %s |\n", i+1, d)
		}
	}

	b.WriteString("\n`mailmon apply` of each run's generated file into a new database (before serve starts; the wall time and the apply process's own CPU, from its rusage):\n\n| monitors | mix | apply wall (s) | apply CPU (s) | apply peak RSS (MiB) |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %d | %s | %.1f | %.1f | %.0f |\n", r.monitors, r.mix.name, r.apply.Wall.Seconds(), r.apply.CPU, r.apply.PeakRSSMiB)
	}

	fmt.Fprintf(&b, "\nAnswers while measured: every %v (the first one %v after serve's start, the three endpoints a third of that apart), `/metrics` as Prometheus scrapes it (the text format, `Accept-Encoding: gzip`, a bearer token), the web board's first page as the benchmark's logged-in admin (a session cookie from the login form) and `GET /api/v1/monitors`' first page (a bearer token); each time is the whole answer, to its last byte (a gzipped answer is unzipped after its time is taken, to tell its size):\n\n| monitors | mix | answer | fetches | p50 (ms) | max (ms) | largest answer (KiB) | within %d ms (max) |\n|---|---|---|---|---|---|---|---|\n",
		answerEvery, answerEvery, answerGoal.Milliseconds())
	for _, r := range rows {
		for _, a := range r.answers {
			size := fmt.Sprintf("%.1f", float64(a.bytes)/1024)
			switch {
			case a.unzipped > 0:
				size += fmt.Sprintf(" (%s; %.1f unzipped)", a.encoding, float64(a.unzipped)/1024)
			case a.encoding != "":
				size += " (" + a.encoding + ")"
			}
			verdict := harness.Met(a.met)
			if !a.measured {
				verdict = "not measured"
			}
			if a.errs > 0 {
				verdict += fmt.Sprintf(": %d failed: %s", a.errs, harness.Trim(a.firstErr, 120))
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %d | %.1f | %.1f | %s | %s |\n", r.monitors, r.mix.name, a.name, a.n, millis(a.p50), millis(a.max), size, verdict)
		}
	}

	b.WriteString("\nThe raw socket's CPU per check (the peers benchmark's raw child, against the same responders right after each run): by kind with 4 workers at saturation (warm, never idle), and the whole mix paced at the run's tests/s, each check in its own goroutine, as serve's scheduler starts them (waking for each):\n\n| monitors | mix | kind | raw CPU ms/check | cores per 1,000 monitors at 60 s |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		if r.rawErr != "" {
			fmt.Fprintf(&b, "| %d | %s | – | %s | – |\n", r.monitors, r.mix.name, r.rawErr)
		} else {
			for _, s := range r.mix.shares {
				ms := r.raw[s.k.name]
				fmt.Fprintf(&b, "| %d | %s | %s | %.3f | %.3f |\n", r.monitors, r.mix.name, s.k.name, ms, coresPer1000(ms))
			}
			fmt.Fprintf(&b, "| %d | %s | the mix, saturated | %.3f | %.3f |\n", r.monitors, r.mix.name, r.rawPerTest(), coresPer1000(r.rawPerTest()))
		}
		if r.rawPacedErr != "" {
			fmt.Fprintf(&b, "| %d | %s | the mix, paced | %s | – |\n", r.monitors, r.mix.name, r.rawPacedErr)
		} else if r.rawPaced > 0 {
			fmt.Fprintf(&b, "| %d | %s | the mix, paced at %.0f/s (starts p99 %.1f ms late) | %.3f | %.3f |\n", r.monitors, r.mix.name, r.testsPerSec, millis(r.rawPacedLate), r.rawPaced, coresPer1000(r.rawPaced))
		}
	}
	for _, r := range rows {
		if pq, x := r.raw["smtp-starttls"], r.raw["smtp-starttls-x25519"]; pq > 0 && x > 0 {
			fmt.Fprintf(&b, "\nRaw STARTTLS at %d (%s): %.3f CPU ms/check with Go's default key share (X25519MLKEM768 first), %.3f with X25519 alone: the hybrid costs %+.0f%%.", r.monitors, r.mix.name, pq, x, (pq/x-1)*100)
		}
	}
	b.WriteString("\n")
	for _, r := range rows {
		// From the CPU per test, so that a run whose scheduler fell behind
		// (lag) still tells what keeping up would cost.
		fmt.Fprintf(&b, "\nmailmon at %d (%s): %.3f CPU ms per test, %.3f cores per 1,000 monitors at 60 s.", r.monitors, r.mix.name, r.cpuPerTest(), coresPer1000(r.cpuPerTest()))
	}

	b.WriteString("\n\n## Goals (#25), from the figures above\n\n")
	for _, r := range rows {
		for _, v := range verdicts(r) {
			fmt.Fprintf(&b, "- %s\n", v)
		}
	}
	b.WriteString("\nNotes:\n" +
		"- serve's CPU includes answering the fetches above (a few pages a minute); the fetching itself (the answers are read and /metrics unzipped, nothing parsed) and the login are the benchmark's CPU, not serve's. The answers are fetched by a process of their own (the benchmark's binary run again), as Prometheus and a browser fetch them, not by the benchmark's process, whose goroutines also serve the farm of targets.\n" +
		"- Two raw baselines: the saturated one (4 workers, never idle) is the cheapest a check can be; the paced one does the daemon's own work at the daemon's own rate, waking for each check as any scheduler must. Goals 2 and 3 say \"raw\": both ratios are given, the goals' wording unchanged.\n" +
		"- A goal set at another size than a run's is checked at that run's size too, and says so: it is met only at its own size.\n" +
		"- `/metrics, 3rd scrape on`: the same fetches from the third on. The benchmark scrapes as Prometheus does (its scrape-timeout header, a fixed period), so serve knows its interval after the first two and answers the rest from a render made shortly before each (`--metrics-render-ahead`, docs/prometheus.md); the first two are rendered as they come, as every scrape was before render-ahead.\n" +
		"- Goal 1's CPU from serve's exec adds the CPU serve spent before it listened (opening the database, loading the monitors) to the measured window's, over both times: the goal says start-up included.\n" +
		"- CPU a minute: serve's CPU over each minute from when it listened (the CPU column's window), sampled at each minute's end: the first minute has every monitor's first test (its status, state and events created), the later ones the steady state. CPU before listening: opening the database and loading the monitors, before that window (serve loads, then listens).\n")
	return b.String()
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// goal is a bound of the goals on one figure of a run.
type goal struct {
	number   int    // the goal
	mix      string // the mix it is set for
	monitors int    // the size it is set at; 0: any
	what     string
	// figure is the run's figure, said, and whether it meets the bound;
	// ok false: not measured (figure says why).
	figure func(r row) (said string, met, ok bool)
}

func bound(v, limit float64, format, unit string, below bool) (string, bool, bool) {
	met := v <= limit
	if below {
		met = v < limit
	}
	return fmt.Sprintf(format+" %s", v, unit), met, true
}

func ratioGoal(limit float64, paced bool) func(r row) (string, bool, bool) {
	return func(r row) (string, bool, bool) {
		x, err, which := r.ratio(), r.rawErr, "saturated"
		if paced {
			x, err, which = r.pacedRatio(), r.rawPacedErr, "paced"
		}
		if x == 0 {
			if err == "" {
				err = "no baseline (-raw-window 0)"
			}
			return "the " + which + " raw baseline: " + harness.Trim(err, 120), false, false
		}
		return fmt.Sprintf("%.2f× the %s raw socket", x, which), x <= limit, true
	}
}

func answerGoalOf(name string) func(r row) (string, bool, bool) {
	return func(r row) (string, bool, bool) {
		for _, a := range r.answers {
			if a.name != name {
				continue
			}
			if !a.measured {
				if a.n == 0 {
					return "not fetched (the run is shorter than -answer-every)", false, false
				}
				return fmt.Sprintf("%d of %d fetches failed: %s", a.errs, a.n, harness.Trim(a.firstErr, 120)), false, true
			}
			return fmt.Sprintf("max %.0f ms (p50 %.0f ms) over %d fetches", millis(a.max), millis(a.p50), a.n), a.met, true
		}
		return "not fetched (-answer-every 0)", false, false
	}
}

var goals = []goal{
	{1, "ca", 20000, "CPU ≤ 0.30 cores", func(r row) (string, bool, bool) { return bound(r.cores, 0.30, "%.3f", "cores from listening", false) }},
	{1, "ca", 20000, "CPU ≤ 0.30 cores, start-up included", func(r row) (string, bool, bool) {
		return bound(r.coresFromExec(), 0.30, "%.3f", fmt.Sprintf("cores from serve's exec (%.1f CPU s in the %.1f s before it listened)", r.startCPU, r.startWall), false)
	}},
	{1, "ca", 20000, "peak RSS ≤ 256 MiB", func(r row) (string, bool, bool) { return bound(r.rssMiB, 256, "%.0f", "MiB", false) }},
	{1, "ca", 20000, "lag p99 < 1 s (the worst second)", func(r row) (string, bool, bool) { return bound(max(r.lagP99, r.lagP99Worst), 1000, "%.1f", "ms", true) }},
	{1, "ca", 20000, "≤ 40 bytes per stored result", func(r row) (string, bool, bool) { return bound(r.bytesPerResult, 40, "%.1f", "bytes", false) }},
	{2, "ca", 0, "CPU per test ≤ 2× raw", ratioGoal(2, false)},
	{2, "ca", 0, "CPU per test ≤ 2× raw", ratioGoal(2, true)},
	{3, "lean", 100000, "CPU ≤ 1.5× raw for the same mix", ratioGoal(1.5, false)},
	{3, "lean", 100000, "CPU ≤ 1.5× raw for the same mix", ratioGoal(1.5, true)},
	{3, "lean", 100000, "≤ 1 GiB RSS", func(r row) (string, bool, bool) { return bound(r.rssMiB, 1024, "%.0f", "MiB peak", false) }},
	{3, "lean", 100000, "lag p99 < 1 s (the worst second)", func(r row) (string, bool, bool) { return bound(max(r.lagP99, r.lagP99Worst), 1000, "%.1f", "ms", true) }},
	{3, "lean", 100000, "the web board's first page within 200 ms", answerGoalOf("board /")},
	{3, "lean", 100000, "`/metrics` within 200 ms, every scrape", answerGoalOf("/metrics")},
	{3, "lean", 100000, "`/metrics` within 200 ms, a steady scraper's answers (3rd scrape on, rendered ahead)", answerGoalOf(steadyMetrics)},
	{3, "lean", 100000, "`apply` of the file in under 60 s", func(r row) (string, bool, bool) {
		return bound(r.apply.Wall.Seconds(), 60, "%.1f", fmt.Sprintf("s (%.1f CPU s)", r.apply.CPU), true)
	}},
}

// verdicts are the goal lines of a run: each goal set for its mix, with
// the run's figure and met or not met, computed.
func verdicts(r row) []string {
	var out []string
	for _, g := range goals {
		if g.mix != r.mix.name {
			continue
		}
		said, met, ok := g.figure(r)
		verdict := harness.Met(met)
		if !ok {
			verdict = "not measured"
		}
		line := fmt.Sprintf("Goal %d, %s, at %d (%s): %s: %s", g.number, g.what, r.monitors, r.mix.name, said, verdict)
		if g.monitors != 0 && g.monitors != r.monitors {
			line += fmt.Sprintf(" (the goal is set at %d monitors)", g.monitors)
		}
		out = append(out, line)
	}
	return out
}
