package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/bench/harness"
	"github.com/mailmon/mailmon/internal/bench/procstat"
)

// report renders the cases as Markdown: one row per check with the
// tools' medians and mailmon's ratios to the plug-in, and the goal.
func report(cases []bench, n int, versions string, load loads) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# mailmon check as a plug-in, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Machine: %s; load average (1 min) %s at the start, %s at the end: other work shared the cores, and falls on all the tools alike.  \nTools: %s.\n\n",
		procstat.Machine(), load.start, load.end, versions)
	fmt.Fprintf(&b, "A process per check, one at a time, the tools taking turns "+
		"(which goes first rotates), against the same loopback server; each figure is the median of %d runs. "+
		"CPU is the child's own user + system time (from its rusage, not the cost of forking it), wall is start to exit. "+
		"*alone* is `mailmon check` built without the daemon (internal/bench/plugin/checkonly, never shipped): "+
		"the difference to mailmon is what the daemon's packages cost every process at start-up. "+
		"mailmon verifies the certificate on STARTTLS (`--ca`); check_smtp -S cannot.\n\n", n)
	b.WriteString("| check | against | mailmon command | plug-in | mailmon CPU (ms) | alone CPU (ms) | plug-in CPU (ms) | CPU ratio | mailmon wall (ms) | alone wall (ms) | plug-in wall (ms) | wall ratio | failed runs |\n")
	b.WriteString("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range cases {
		m, a, p := median(c.mailmonRuns), median(c.checkonlyRuns), median(c.pluginRuns)
		errs := fmt.Sprint(c.errs)
		if c.firstErr != "" {
			errs += " (" + strings.ReplaceAll(harness.Trim(c.firstErr, 80), "|", "/") + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | `%s` | `%s` | %.2f | %s | %.2f | %s | %.2f | %s | %.2f | %s | %s |\n",
			c.name, c.target, shortArgs(c.mailmon), shortArgs(c.plugin),
			ms(m.cpu), msOrNone(a.cpu), ms(p.cpu), ratio(m.cpu, p.cpu), ms(m.wall), msOrNone(a.wall), ms(p.wall), ratio(m.wall, p.wall), errs)
	}
	b.WriteString("\n**Goal**: mailmon ≤ 1.0× the plug-in's CPU and wall per check (median).\n\n")
	for _, c := range cases {
		m, a, p := median(c.mailmonRuns), median(c.checkonlyRuns), median(c.pluginRuns)
		if p.cpu == 0 || m.cpu == 0 {
			fmt.Fprintf(&b, "- %s against %s: not measured\n", c.name, c.target)
			continue
		}
		fmt.Fprintf(&b, "- %s against %s: CPU %s (%s), wall %s (%s)", c.name, c.target,
			ratio(m.cpu, p.cpu), harness.Met(m.cpu <= p.cpu), ratio(m.wall, p.wall), harness.Met(m.wall <= p.wall))
		if a.cpu > 0 {
			fmt.Fprintf(&b, "; alone CPU %s, wall %s", ratio(a.cpu, p.cpu), ratio(a.wall, p.wall))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func msOrNone(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", ms(d))
}

// shortArgs is a command line with its program's folder left out, and
// the harness's temporary paths shortened.
func shortArgs(argv []string) string {
	out := []string{filepath.Base(argv[0])}
	for _, a := range argv[1:] {
		if filepath.IsAbs(a) {
			a = filepath.Base(a)
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}

func ratio(a, b time.Duration) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}

// loads are the machine's load averages around the run.
type loads struct{ start, end string }

// loadAvg is the 1-minute load average, from /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}
