// Command plugin measures "mailmon check" as a monitoring plug-in is used:
// a process per check. It runs mailmon and Debian's Monitoring Plugins
// (check_smtp, check_pop, check_imap) one process at a time, taking turns,
// against the same loopback servers (an in-process target farm, then real
// Postfix and Dovecot), and prints each one's whole-process CPU and wall
// time per check, median of -n runs, in one table; the start-up alone
// ("mailmon version" against "check_smtp -V") heads it. The table is
// written as Markdown under bench/results. "make bench" runs it.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/bench/farm"
	"github.com/mailmon/mailmon/internal/bench/harness"
	"github.com/mailmon/mailmon/internal/bench/procstat"
	"github.com/mailmon/mailmon/internal/demo"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

func main() {
	bin := flag.String("mailmon", "bin/mailmon", "the mailmon binary")
	plugins := flag.String("plugins", "/usr/lib/nagios/plugins", "the Monitoring Plugins folder")
	n := flag.Int("n", 15, "measured runs of every command; each figure is the median")
	warm := flag.Int("warmup", 3, "unmeasured runs of every command first (page cache, server caches)")
	realServers := flag.Bool("real", true, "also measure against real Postfix and Dovecot")
	out := flag.String("out", "bench/results", "folder for the Markdown result")
	strict := flag.Bool("strict", false, "exit 1 when any run did not end OK (the CI smoke run)")
	alone := flag.Bool("checkonly", true, "also measure \"mailmon check\" built alone (internal/bench/plugin/checkonly, never shipped)")
	flag.Parse()

	work, err := os.MkdirTemp("", "mailmon-plugin-bench-")
	must(err)
	defer os.RemoveAll(work)

	t := tools{mailmon: *bin, plugins: *plugins}
	if *alone {
		t.checkonly = filepath.Join(work, "checkonly")
		// Built as make package builds mailmon: static, stripped.
		build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", t.checkonly, "./internal/bench/plugin/checkonly")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := build.CombinedOutput()
		if err != nil {
			must(fmt.Errorf("building checkonly: %v: %s", err, out))
		}
	}
	cases := []bench{{
		name: "start-up alone", target: "none",
		mailmon:   []string{t.mailmon, "check", "-V"},
		checkonly: t.alone("-V"), mailmonExit: 3,
		plugin: []string{t.plugin("check_smtp"), "-V"}, pluginExit: 3, // -V exits 3, as the guidelines ask
	}}
	farmSite, stopFarm := startFarm(work)
	defer stopFarm()
	cases = append(cases, t.cases(farmSite)...)
	if *realServers {
		env, stop, err := realmail.Launch()
		if err != nil {
			fmt.Fprintln(os.Stderr, "plugin bench: real Postfix/Dovecot not started, skipping them:", err)
		} else {
			defer stop()
			cases = append(cases, t.cases(site{name: "Postfix/Dovecot", caFile: env.CAFile, serverName: env.ServerName,
				smtp: env.Addr(env.SMTP), smtpTLS: env.Addr(env.SMTP), pop3: env.Addr(env.POP3), imap: env.Addr(env.IMAP)})...)
		}
	}

	load := loads{start: loadAvg()}
	for i := range cases {
		cases[i].measure(*warm, *n)
	}
	load.end = loadAvg()
	md := report(cases, *n, versions(t), load)
	fmt.Print("\n" + md)
	must(os.MkdirAll(*out, 0o755))
	name := filepath.Join(*out, "plugin-"+time.Now().UTC().Format("2006-01-02")+".md")
	must(os.WriteFile(name, []byte(md), 0o644))
	fmt.Println("written to", name)
	if *strict {
		for _, c := range cases {
			if c.errs > 0 {
				fmt.Fprintf(os.Stderr, "plugin bench: %s against %s: %d runs failed: %s\n", c.name, c.target, c.errs, c.firstErr)
				os.Exit(1)
			}
		}
	}
}

// site is the addresses of one set of servers.
type site struct {
	name, caFile, serverName  string
	smtp, smtpTLS, pop3, imap string // host:port; smtpTLS offers STARTTLS
}

// startFarm starts the farm's responders: SMTP plain and with STARTTLS,
// POP3 and IMAP plain.
func startFarm(work string) (site, func()) {
	cfg, caFile, err := demo.SelfSigned(work)
	must(err)
	var servers []*farm.Server
	start := func(p farm.Protocol, mode farm.TLS) string {
		srv, err := farm.Start(p, mode, cfg)
		must(err)
		servers = append(servers, srv)
		return srv.Addr()
	}
	s := site{name: "farm", caFile: caFile, serverName: "localhost",
		smtp: start(farm.SMTP, farm.NoTLS), smtpTLS: start(farm.SMTP, farm.StartTLS),
		pop3: start(farm.POP3, farm.NoTLS), imap: start(farm.IMAP, farm.NoTLS)}
	return s, func() {
		for _, srv := range servers {
			srv.Close()
		}
	}
}

type tools struct{ mailmon, checkonly, plugins string }

func (t tools) plugin(name string) string { return filepath.Join(t.plugins, name) }

// alone is "mailmon check ARGS" as checkonly runs it, or nil without it.
func (t tools) alone(args ...string) []string {
	if t.checkonly == "" {
		return nil
	}
	return append([]string{t.checkonly, "check"}, args...)
}

// cases are the checks of a site, each as mailmon and the plug-in its
// users would replace it with would run it. Both sides speak the same
// conversation: greeting, EHLO, [STARTTLS, EHLO,] QUIT; POP3 greeting and
// QUIT (mailmon also asks CAPA); IMAP greeting and LOGOUT (mailmon also
// asks CAPABILITY). mailmon verifies the certificate; check_smtp -S cannot.
func (t tools) cases(s site) []bench {
	hp := func(addr string) []string {
		host, port, _ := net.SplitHostPort(addr)
		return []string{"-H", host, "-p", port}
	}
	mm := func(typ, addr string, more ...string) []string {
		return append(append([]string{t.mailmon, "check", typ}, hp(addr)...), more...)
	}
	co := func(mailmon []string) []string {
		if t.checkonly == "" {
			return nil
		}
		return append([]string{t.checkonly}, mailmon[1:]...)
	}
	pl := func(name, addr string, more ...string) []string {
		return append(append([]string{t.plugin(name)}, hp(addr)...), more...)
	}
	cases := []bench{
		{name: "smtp", target: s.name, mailmon: mm("smtp", s.smtp), plugin: pl("check_smtp", s.smtp)},
		{name: "smtp STARTTLS", target: s.name,
			mailmon: mm("smtp", s.smtpTLS, "-S", "--ca", s.caFile, "--servername", s.serverName),
			plugin:  pl("check_smtp", s.smtpTLS, "-S")},
		{name: "pop3", target: s.name, mailmon: mm("pop3", s.pop3), plugin: pl("check_pop", s.pop3)},
		{name: "imap", target: s.name, mailmon: mm("imap", s.imap), plugin: pl("check_imap", s.imap)},
	}
	for i := range cases {
		cases[i].checkonly = co(cases[i].mailmon)
	}
	return cases
}

// bench is one check as the tools run it, and what they cost.
type bench struct {
	name, target               string
	mailmon, checkonly, plugin []string // checkonly: nil when not measured
	mailmonExit, pluginExit    int      // the exit codes when all is well

	mailmonRuns, checkonlyRuns, pluginRuns []run
	errs                                   int
	firstErr                               string
}

// run is one process's cost.
type run struct{ cpu, wall time.Duration }

// measure runs the commands warm+n times, taking turns and rotating
// which goes first, so that what else the machine does falls on all
// alike. Only runs that ended as expected count.
func (b *bench) measure(warm, n int) {
	type tool struct {
		argv []string
		exit int
		runs *[]run
	}
	tools := []tool{{b.mailmon, b.mailmonExit, &b.mailmonRuns}, {b.plugin, b.pluginExit, &b.pluginRuns}}
	if b.checkonly != nil {
		tools = append(tools, tool{b.checkonly, b.mailmonExit, &b.checkonlyRuns})
	}
	for i := 0; i < warm+n; i++ {
		for j := range tools {
			tl := tools[(i+j)%len(tools)]
			r, err := once(tl.argv, tl.exit)
			if err != nil {
				b.errs++
				if b.firstErr == "" {
					b.firstErr = err.Error()
				}
				continue
			}
			if i >= warm {
				*tl.runs = append(*tl.runs, r)
			}
		}
	}
	fmt.Printf("%-16s %-15s mailmon %s  alone %s  plug-in %s  errors %d %s\n", b.name, b.target,
		median(b.mailmonRuns), median(b.checkonlyRuns), median(b.pluginRuns), b.errs, b.firstErr)
}

// once runs argv and measures it: the child's own user + system CPU (not
// the cost of forking it), and the wall time from start to exit.
func once(argv []string, wantExit int) (run, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = harness.Env()
	t0 := time.Now()
	out, err := cmd.Output()
	wall := time.Since(t0)
	if cmd.ProcessState == nil {
		return run{}, err
	}
	if code := cmd.ProcessState.ExitCode(); code != wantExit {
		return run{}, fmt.Errorf("%s: exit %d, want %d: %.200s", filepath.Base(argv[0]), code, wantExit, out)
	}
	return run{cpu: time.Duration(procstat.ExitedCPU(cmd.ProcessState) * float64(time.Second)), wall: wall}, nil
}

// stats are the medians of some runs.
type stats struct{ cpu, wall time.Duration }

func median(rs []run) stats {
	if len(rs) == 0 {
		return stats{}
	}
	cpu, wall := make([]time.Duration, len(rs)), make([]time.Duration, len(rs))
	for i, r := range rs {
		cpu[i], wall[i] = r.cpu, r.wall
	}
	slices.Sort(cpu)
	slices.Sort(wall)
	return stats{cpu: cpu[len(cpu)/2], wall: wall[len(wall)/2]}
}

func (s stats) String() string {
	return fmt.Sprintf("CPU %5.2f ms wall %5.2f ms", ms(s.cpu), ms(s.wall))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// versions names what was measured.
func versions(t tools) string {
	first := func(argv ...string) string {
		out, _ := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		l, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		return l
	}
	return first(t.mailmon, "version") + "; " + first(t.plugin("check_smtp"), "-V")
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "plugin bench:", err)
		os.Exit(1)
	}
}
