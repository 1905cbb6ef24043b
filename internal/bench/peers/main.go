// Command peers measures mailmon side by side with what its users would
// pick instead, in one run on one machine: the same banner checks (SMTP
// plain, SMTP STARTTLS, POP3 implicit TLS, IMAP STARTTLS) through a raw
// socket (the baseline), mailmon's /probe, Debian's
// prometheus-blackbox-exporter (tcp modules, scraped at the same
// concurrency) and Debian's monitoring-plugins (a process per check), first
// against an in-process target farm at saturation, then against real
// Postfix and Dovecot. It prints one table and writes it as Markdown under
// bench/results. "make bench-peers" runs it.
package main

import (
	"cmp"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/bench/farm"
	"github.com/mailmon/mailmon/internal/demo"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

// httpDriver: /probe is driven through net/http's Client (-driver).
var httpDriver = true

func main() {
	role := flag.String("role", "", "internal: raw (the baseline child)")
	bin := flag.String("mailmon", "bin/mailmon", "the mailmon binary")
	blackbox := flag.String("blackbox", "/usr/bin/prometheus-blackbox-exporter", "the blackbox_exporter binary")
	plugins := flag.String("plugins", "/usr/lib/nagios/plugins", "the Monitoring Plugins folder")
	workers := flag.Int("workers", 8, "checks at once, for every tool")
	warmup := flag.Duration("warmup", time.Second, "load before each measuring window")
	window := flag.Duration("window", 10*time.Second, "each measuring window against the farm")
	realWindow := flag.Duration("real-window", 4*time.Second, "each measuring window against Postfix/Dovecot (0: skip them)")
	realWorkers := flag.Int("real-workers", 4, "checks at once against Postfix/Dovecot")
	rounds := flag.Int("rounds", 3, "rounds of every check, the tools taking turns; each figure is the tool's median round")
	out := flag.String("out", "bench/results", "folder for the Markdown results")
	strict := flag.Bool("strict", false, "exit 1 when a tool that could run a check failed any (the CI smoke run)")
	only := flag.String("tools", "", "comma-separated tools to run (raw,mailmon,blackbox,plugins); all when empty")
	onlyChecks := flag.String("checks", "", "comma-separated checks to run (smtp-banner,smtp-starttls,pop3-tls,imap-starttls); all when empty")
	// The raw child's flags.
	checkName := flag.String("check", "", "internal")
	addr := flag.String("addr", "", "internal")
	ca := flag.String("ca", "", "internal")
	serverName := flag.String("servername", "", "internal")
	rate := flag.Float64("rate", 0, "internal: the raw child starts checks at this rate a second, evenly spread, each in its own goroutine, as a scheduler does (0: -workers at saturation)")
	shares := flag.String("shares", "", "internal: with -rate and several -check, comma-separated, each one's percentage of the checks")
	x25519 := flag.Bool("x25519", false, "internal: the raw child offers the X25519 key share only, not Go's default hybrid post-quantum one first")
	driverFlag := flag.String("driver", "net/http", "how /probe is driven: net/http (Go's Client, kept alive, as Prometheus does) or raw (prebuilt requests on kept-alive sockets: less of the driver's CPU taken from the farm)")
	flag.Parse()
	switch *driverFlag {
	case "net/http":
		httpDriver = true
	case "raw":
		httpDriver = false
	default:
		fmt.Fprintf(os.Stderr, "-driver %q: want net/http or raw\n", *driverFlag)
		os.Exit(2)
	}

	if *role == "raw" {
		rawChild(*checkName, *addr, *ca, *serverName, *x25519, *workers, *warmup, *window, *rate, *shares)
		return
	}

	self, err := os.Executable()
	must(err)
	work, err := os.MkdirTemp("", "mailmon-peers-")
	must(err)
	defer os.RemoveAll(work)

	all := []struct {
		key string
		mk  func() tool
	}{
		{"raw", func() tool { return rawTool{self: self} }},
		{"mailmon", func() tool { return &mailmonTool{bin: *bin} }},
		{"blackbox", func() tool { return &blackboxTool{bin: *blackbox} }},
		{"plugins", func() tool { return pluginsTool{dir: *plugins} }},
	}
	var tools []func() tool
	for _, t := range all {
		if *only == "" || slices.Contains(strings.Split(*only, ","), t.key) {
			tools = append(tools, t.mk)
		}
	}
	if *onlyChecks != "" {
		keep := strings.Split(*onlyChecks, ",")
		checks = slices.DeleteFunc(checks, func(c check) bool { return !slices.Contains(keep, c.name) })
	}
	if len(tools) == 0 || len(checks) == 0 {
		fmt.Fprintln(os.Stderr, "peers: -tools or -checks leaves nothing to run")
		os.Exit(2)
	}

	fs, stopFarm := startFarm(work)
	var runs []siteRun
	runs = append(runs, runSite(fs, tools, work, *workers, *rounds, *warmup, *window))
	stopFarm()

	if *realWindow > 0 {
		env, stop, err := realmail.Launch()
		if err != nil {
			fmt.Fprintln(os.Stderr, "peers: real Postfix/Dovecot not started, skipping that part:", err)
		} else {
			rs := &site{name: "postfix-dovecot", caFile: env.CAFile, serverName: env.ServerName,
				addrs: map[string]string{
					"smtp-banner":   fmt.Sprintf("127.0.0.1:%d", env.SMTP),
					"smtp-starttls": fmt.Sprintf("127.0.0.1:%d", env.SMTP),
					"pop3-tls":      fmt.Sprintf("127.0.0.1:%d", env.POP3S),
					"imap-starttls": fmt.Sprintf("127.0.0.1:%d", env.IMAP),
				},
				server: func(string) []time.Duration { return nil }}
			runs = append(runs, runSite(rs, tools, work, *realWorkers, *rounds, *warmup, *realWindow))
			stop()
		}
	}

	md := report(runs, versions(*bin, *blackbox, *plugins), *workers, *window)
	fmt.Print("\n" + md)
	must(os.MkdirAll(*out, 0o755))
	name := filepath.Join(*out, "peers-"+time.Now().UTC().Format("2006-01-02")+".md")
	must(os.WriteFile(name, []byte(md), 0o644))
	fmt.Println("written to", name)
	if *strict {
		bad := false
		for _, run := range runs {
			for _, r := range run.results {
				if r.na == "" && (r.ok == 0 || r.errs > 0) {
					fmt.Fprintf(os.Stderr, "peers: %s %s on %s: %d ok, %d errors: %s\n", r.tool, r.check, run.site.name, r.ok, r.errs, r.firstErr)
					bad = true
				}
			}
		}
		if bad {
			os.Exit(1)
		}
	}
}

// startFarm starts one responder per check, with a self-signed certificate.
func startFarm(work string) (*site, func()) {
	cfg, caFile, err := demo.SelfSigned(work)
	must(err)
	s := &site{name: "farm", caFile: caFile, serverName: "localhost", addrs: map[string]string{}}
	servers := map[string]*farm.Server{}
	for _, c := range checks {
		srv, err := farm.Start(farm.Protocol(c.proto), farm.TLS(c.mode), cfg)
		must(err)
		servers[c.name] = srv
		s.addrs[c.name] = srv.Addr()
	}
	s.server = func(check string) []time.Duration { return servers[check].Sessions() }
	return s, func() {
		for _, srv := range servers {
			srv.Close()
		}
	}
}

// siteRun is every tool's results on one site.
type siteRun struct {
	site    *site
	workers int
	rounds  int
	results []result
}

// runSite starts every tool, then runs each check rounds times, the tools
// taking turns within a round, and a different one first in each round, so
// that whatever else the machine does falls on all of them alike. Each
// tool's figures for a check are those of its median round by rate.
func runSite(s *site, tools []func() tool, work string, workers, rounds int, warmup, window time.Duration) siteRun {
	run := siteRun{site: s, workers: workers, rounds: rounds}
	var started []tool
	for _, mk := range tools {
		t := mk()
		dir := filepath.Join(work, s.name, strings.ReplaceAll(t.name(), " ", "-"))
		must(os.MkdirAll(dir, 0o700))
		if err := t.start(s, dir); err != nil {
			fmt.Fprintf(os.Stderr, "peers: %s: %v\n", t.name(), err)
			for _, c := range checks {
				run.results = append(run.results, result{tool: t.name(), check: c.name, na: "did not start: " + err.Error()})
			}
			continue
		}
		defer t.stop()
		started = append(started, t)
	}
	for _, c := range checks {
		byTool := make([][]result, len(started))
		for round := 0; round < rounds; round++ {
			// Each round begins with the next tool: a tool that follows
			// another meets the TIME_WAIT sockets of its checks (tens of
			// thousands on loopback, a few percent slower to connect).
			for k := range started {
				i := (k + round) % len(started)
				t := started[i]
				if why := t.unsupported(c); why != "" {
					byTool[i] = []result{{tool: t.name(), check: c.name, na: why}}
					continue
				}
				s.server(c.name) // forget what came before
				r := t.run(c, s, workers, warmup, window)
				if lat := s.server(c.name); lat != nil {
					r.srvKnown = true
					r.srvP50, r.srvP99 = farm.Percentile(lat, 50), farm.Percentile(lat, 99)
				}
				fmt.Printf("%-16s %-14s %-18s round %d  %8.0f checks/s  %6.3f CPU s/1000  %6.1f MiB  p50 %v p99 %v  errors %d %s\n",
					s.name, c.name, t.name(), round+1, r.rate, r.cpuPer1000, r.rssMiB, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), r.errs, r.firstErr)
				byTool[i] = append(byTool[i], r)
			}
		}
		for _, rs := range byTool {
			run.results = append(run.results, median(rs))
		}
	}
	return run
}

// median is the round with the median rate; errors are summed over all
// rounds, so that one failed check in any round shows.
func median(rs []result) result {
	if len(rs) == 1 {
		return rs[0]
	}
	sorted := slices.Clone(rs)
	slices.SortFunc(sorted, func(a, b result) int { return cmp.Compare(a.rate, b.rate) })
	m := sorted[len(sorted)/2]
	m.errs = 0
	for _, r := range rs {
		m.errs += r.errs
		if m.firstErr == "" {
			m.firstErr = r.firstErr
		}
	}
	return m
}

// versions names what was measured.
func versions(bin, blackbox, plugins string) string {
	first := func(name string, args ...string) string {
		out, _ := exec.Command(name, args...).CombinedOutput()
		l, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		return l
	}
	return fmt.Sprintf("%s; %s; %s", first(bin, "version"), first(blackbox, "--version"),
		first(filepath.Join(plugins, "check_smtp"), "-V"))
}
