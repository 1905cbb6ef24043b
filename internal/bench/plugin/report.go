package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/bench/harness"
	"github.com/mailmon/mailmon/internal/bench/procstat"
)

// report renders the cases as Markdown: one row per check with both
// tools' medians and mailmon's ratio, and the goal.
func report(cases []bench, n int, versions string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# mailmon check as a plug-in, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Machine: %s.  \nTools: %s.\n\n", procstat.Machine(), versions)
	fmt.Fprintf(&b, "A process per check, one at a time, mailmon and the Monitoring Plugin taking turns "+
		"(which goes first alternates), against the same loopback server; each figure is the median of %d runs. "+
		"CPU is the child's own user + system time (from its rusage, not the cost of forking it), wall is start to exit. "+
		"mailmon verifies the certificate on STARTTLS (`--ca`); check_smtp -S cannot.\n\n", n)
	b.WriteString("| check | against | mailmon command | plug-in | mailmon CPU (ms) | plug-in CPU (ms) | CPU ratio | mailmon wall (ms) | plug-in wall (ms) | wall ratio | failed runs |\n")
	b.WriteString("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range cases {
		m, p := median(c.mailmonRuns), median(c.pluginRuns)
		errs := fmt.Sprint(c.errs)
		if c.firstErr != "" {
			errs += " (" + strings.ReplaceAll(harness.Trim(c.firstErr, 80), "|", "/") + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | `%s` | `%s` | %.2f | %.2f | %s | %.2f | %.2f | %s | %s |\n",
			c.name, c.target, shortArgs(c.mailmon), shortArgs(c.plugin),
			ms(m.cpu), ms(p.cpu), ratio(m.cpu, p.cpu), ms(m.wall), ms(p.wall), ratio(m.wall, p.wall), errs)
	}
	b.WriteString("\n**Goal**: mailmon ≤ 1.0× the plug-in's CPU and wall per check (median).\n\n")
	for _, c := range cases {
		m, p := median(c.mailmonRuns), median(c.pluginRuns)
		if p.cpu == 0 || m.cpu == 0 {
			fmt.Fprintf(&b, "- %s against %s: not measured\n", c.name, c.target)
			continue
		}
		fmt.Fprintf(&b, "- %s against %s: CPU %s (%s), wall %s (%s)\n", c.name, c.target,
			ratio(m.cpu, p.cpu), harness.Met(m.cpu <= p.cpu), ratio(m.wall, p.wall), harness.Met(m.wall <= p.wall))
	}
	return b.String()
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
