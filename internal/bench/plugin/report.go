package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/bench/harness"
	"github.com/mailmon/mailmon/internal/bench/procstat"
)

// report renders the cases as Markdown: one row per check with the three
// tools' medians and mailmon's ratios to the plug-in, the goal, and
// where the start-up and each variant's time goes.
func report(cases []*bench, n int, versions string, loads []float64, detail []startup) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# mailmon as a plug-in, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Machine: %s; load average (1 min) during the run %s: other work shared the cores, and falls on all the tools alike.  \nTools: %s.\n\n",
		procstat.Machine(), loadSummary(loads), versions)
	fmt.Fprintf(&b, "A process per check, one at a time, the tools taking turns "+
		"(which goes first rotates), against the same loopback server; each figure is the median of %d runs. "+
		"CPU is the child's own user + system time (from its rusage, not the cost of forking it), wall is start to exit. "+
		"*mailmon-check* is the plug-in binary (cmd/mailmon-check), *mailmon check* the same check in the daemon's binary, "+
		"both built as the packages ship them (static, stripped). "+
		"mailmon verifies the certificate on STARTTLS (`--ca`); check_smtp -S cannot.\n\n", n)
	b.WriteString("| check | against | mailmon-check command | plug-in | mailmon-check CPU (ms) | mailmon check CPU (ms) | plug-in CPU (ms) | CPU ratio | mailmon-check wall (ms) | mailmon check wall (ms) | plug-in wall (ms) | wall ratio | failed runs |\n")
	b.WriteString("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range cases {
		m, s, p := c.medians()
		errs := fmt.Sprint(c.errs)
		if c.firstErr != "" {
			errs += " (" + strings.ReplaceAll(harness.Trim(c.firstErr, 80), "|", "/") + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | `%s` | `%s` | %.2f | %.2f | %.2f | %s | %.2f | %.2f | %.2f | %s | %s |\n",
			c.name, c.target, shortArgs(c.tools[mailmonCheck].argv), shortArgs(c.tools[pluginTool].argv),
			ms(m.cpu), ms(s.cpu), ms(p.cpu), ratio(m.cpu, p.cpu), ms(m.wall), ms(s.wall), ms(p.wall), ratio(m.wall, p.wall), errs)
	}
	b.WriteString("\n**Goal**: mailmon-check ≤ 1.0× the plug-in's CPU and wall per check (median). CPU ratio and wall ratio are mailmon-check's; " +
		"`mailmon check`'s follow each line.\n\n")
	for _, c := range cases {
		m, s, p := c.medians()
		if p.cpu == 0 || m.cpu == 0 {
			fmt.Fprintf(&b, "- %s against %s: not measured\n", c.name, c.target)
			continue
		}
		fmt.Fprintf(&b, "- %s against %s: CPU %s (%s), wall %s (%s); mailmon check CPU %s, wall %s\n", c.name, c.target,
			ratio(m.cpu, p.cpu), harness.Met(m.cpu <= p.cpu), ratio(m.wall, p.wall), harness.Met(m.wall <= p.wall),
			ratio(s.cpu, p.cpu), ratio(s.wall, p.wall))
	}

	b.WriteString("\n## Where the start-up goes\n\n" +
		"The start-up case's tools, each figure its median over the same runs: user and system CPU, minor page faults " +
		"and context switches (rusage). *Go hello* is the smallest Go program built as mailmon-check is: what the Go runtime " +
		"costs any Go process (its threads, heap and the cgroup look-up of GOMAXPROCS); the hello *linking crypto/tls and net* " +
		"what the standard library's initialisation and size add for any Go program that can check STARTTLS, none of it run; " +
		"*/bin/true* what any process costs " +
		"here (exec, the dynamic loader with libc alone). Go init is the sum of GODEBUG=inittrace=1's package initialisation " +
		fmt.Sprintf("clocks (median of %d extra runs); the dynamic loader's figure is LD_DEBUG=statistics's own ", probes) +
		"(check_smtp loads libssl and libcrypto and relocates their symbols before main).\n\n")
	b.WriteString("| tool | binary (KiB) | CPU (ms) | user (ms) | system (ms) | wall (ms) | page faults | context switches | start-up detail |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for i, tl := range cases[0].tools {
		s := median(tl.runs)
		fmt.Fprintf(&b, "| %s | %s | %.2f | %.2f | %.2f | %.2f | %d | %d | %s |\n", toolName(tl), kib(detail[i].size),
			ms(s.cpu), ms(s.user), ms(s.sys), ms(s.wall), s.faults, s.ctxsw, detail[i].extra)
	}
	for _, c := range cases[1:] {
		if len(c.tools) <= pluginTool+1 {
			continue
		}
		fmt.Fprintf(&b, "\n**%s against %s**, mailmon-check's variants beside it:\n\n", c.name, c.target)
		b.WriteString("| tool | CPU (ms) | user (ms) | system (ms) | wall (ms) | page faults | context switches |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
		for _, tl := range c.tools {
			s := median(tl.runs)
			fmt.Fprintf(&b, "| %s | %.2f | %.2f | %.2f | %.2f | %d | %d |\n", toolName(tl), ms(s.cpu), ms(s.user), ms(s.sys), ms(s.wall), s.faults, s.ctxsw)
		}
	}
	return b.String()
}

// medians are mailmon-check's, mailmon check's and the plug-in's.
func (c *bench) medians() (check, sub, plugin stats) {
	return median(c.tools[mailmonCheck].runs), median(c.tools[mailmonSub].runs), median(c.tools[pluginTool].runs)
}

// toolName is a tool's name and what it ran.
func toolName(tl *tool) string {
	return tl.name + " (`" + shortArgs(tl.argv) + "`)"
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

// loadSummary is the samples' median, lowest and highest.
func loadSummary(samples []float64) string {
	if len(samples) == 0 {
		return "unknown"
	}
	s := slices.Sorted(slices.Values(samples))
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	return fmt.Sprintf("median %s, lowest %s, highest %s (%d samples, one a second)", f(s[len(s)/2]), f(s[0]), f(s[len(s)-1]), len(s))
}

// loadAvg is the 1-minute load average, from /proc/loadavg.
func loadAvg() (float64, bool) {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		v, err := strconv.ParseFloat(f[0], 64)
		return v, err == nil
	}
	return 0, false
}
