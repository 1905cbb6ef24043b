package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/bench/harness"
	"github.com/mailmon/mailmon/internal/bench/procstat"
)

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

func find(rs []result, tool, check string) (result, bool) {
	for _, r := range rs {
		if r.tool == tool && r.check == check && r.na == "" && r.ok > 0 {
			return r, true
		}
	}
	return result{}, false
}

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// report renders every site's results, the mailmon / peer ratios and the
// goals, as Markdown.
func report(runs []siteRun, versions string, workers int, window time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# mailmon and its peers, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Machine: %s.  \nTools: %s.\n\n", procstat.Machine(), versions)
	b.WriteString("Every tool does the same conversation per check: dial, greeting, EHLO (SMTP), " +
		"[STARTTLS and handshake, EHLO again], QUIT (CAPABILITY and LOGOUT for IMAP; for POP3 implicit TLS, greeting, CAPA and QUIT, " +
		"since mailmon's pop3 monitor asks CAPA for the capabilities it reports; check_pop sends CAPA with `-s` and need not wait for its answer). " +
		driverWords() +
		"the plug-ins are a process per check; the raw socket is a Go program with nothing but `net` and `crypto/tls`, " +
		"in its own process. Each tool's CPU is its own process's (the plug-ins': each child's user + system time, " +
		"not the cost of forking it). TLS certificates are verified by every tool but the plug-ins, which cannot be given a CA. " +
		"'Server saw' is the session time the target measured, accept to last reply.\n\n")
	for _, run := range runs {
		fmt.Fprintf(&b, "## Against %s, %d checks at once\n\n", run.site.name, run.workers)
		if run.rounds > 1 {
			fmt.Fprintf(&b, "Each check ran %d rounds, the tools taking turns, a different one first each round; each row is the tool's median round by rate (errors: all rounds).\n\n", run.rounds)
		}
		b.WriteString("| check | tool | checks/s | CPU s per 1,000 checks | peak RSS (MiB) | reported p50 / p99 (ms) | server saw p50 / p99 (ms) | errors |\n")
		b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|\n")
		for _, c := range checks {
			for _, r := range run.results {
				if r.check != c.name {
					continue
				}
				if r.na != "" {
					fmt.Fprintf(&b, "| %s | %s | n/a: %s | | | | | |\n", c.name, r.tool, r.na)
					continue
				}
				srv := "–"
				if r.srvKnown {
					srv = ms(r.srvP50) + " / " + ms(r.srvP99)
				}
				errs := fmt.Sprint(r.errs)
				if r.firstErr != "" {
					errs += " (" + strings.ReplaceAll(harness.Trim(r.firstErr, 80), "|", "/") + ")"
				}
				fmt.Fprintf(&b, "| %s | %s | %.0f | %.3f | %.1f | %s / %s | %s | %s |\n",
					c.name, r.tool, r.rate, r.cpuPer1000, r.rssMiB, ms(r.p50), ms(r.p99), srv, errs)
			}
		}
		b.WriteString("\n**mailmon ÷ peer** (throughput: higher is better for mailmon; CPU per check: lower is better)\n\n")
		b.WriteString("| check | rate ÷ raw | rate ÷ blackbox | rate ÷ plug-ins | CPU ÷ raw | CPU ÷ blackbox | CPU ÷ plug-ins |\n|---|---:|---:|---:|---:|---:|---:|\n")
		for _, c := range checks {
			m, ok := find(run.results, "mailmon", c.name)
			if !ok {
				fmt.Fprintf(&b, "| %s | – | – | – | – | – | – |\n", c.name)
				continue
			}
			var rate, cpu []string
			for _, peer := range []string{"raw socket", "blackbox_exporter", "monitoring-plugins"} {
				p, ok := find(run.results, peer, c.name)
				if !ok {
					rate, cpu = append(rate, "–"), append(cpu, "–")
					continue
				}
				rate = append(rate, ratio(m.rate, p.rate))
				cpu = append(cpu, ratio(m.cpuPer1000, p.cpuPer1000))
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", c.name, strings.Join(rate, " | "), strings.Join(cpu, " | "))
		}
		b.WriteString("\n")
		if run.site.name == "farm" {
			b.WriteString(goals(run.results))
		}
	}
	return b.String()
}

// goals checks the farm figures against the goals.
func goals(rs []result) string {
	var b strings.Builder
	b.WriteString("**Goals** (at saturation against the farm): banner throughput ≥ 0.5× raw, TLS checks ≥ 0.8× raw, CPU per check ≤ 2× raw.\n\n")
	for _, c := range checks {
		m, ok1 := find(rs, "mailmon", c.name)
		r, ok2 := find(rs, "raw socket", c.name)
		if !ok1 || !ok2 {
			fmt.Fprintf(&b, "- %s: not measured\n", c.name)
			continue
		}
		want := 0.8
		if c.mode == "none" {
			want = 0.5
		}
		rate, cpu := m.rate/r.rate, m.cpuPer1000/r.cpuPer1000
		fmt.Fprintf(&b, "- %s: throughput %.2f× raw (goal ≥ %.1f×: %s), CPU %.2f× raw (goal ≤ 2×: %s)\n",
			c.name, rate, want, harness.Met(rate >= want), cpu, harness.Met(cpu <= 2))
	}
	b.WriteString("\n")
	return b.String()
}

// driverWords says how the HTTP-driven tools were driven (-driver).
func driverWords() string {
	if httpDriver {
		return "mailmon and blackbox_exporter are driven over HTTP (`/probe`) by Go's net/http Client, as Prometheus drives them: kept-alive connections, one per worker at most, no gzip (the client shares the harness process with the farm); "
	}
	return "mailmon and blackbox_exporter are driven over HTTP (`/probe`): one kept-alive connection per worker, the request written from prebuilt bytes and the answer read by http.ReadResponse (-driver raw; the driver shares the harness process with the farm); "
}
