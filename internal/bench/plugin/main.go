// Command plugin measures mailmon as a monitoring plug-in is used: a
// process per check. It runs mailmon-check (the plug-in binary), "mailmon
// check" (the same check in the daemon's binary) and Debian's Monitoring
// Plugins (check_smtp, check_pop, check_imap) one process at a time,
// taking turns, against the same loopback servers (an in-process target
// farm, then real Postfix and Dovecot), and prints each one's
// whole-process CPU and wall time per check, median of -n runs, in one
// table. The start-up alone (-V) heads it, beside the floors of any
// process (/bin/true), of any Go program (a "hello" built as
// mailmon-check is) and of any Go program that links crypto/tls and net
// (the same hello with both linked), and a second table says where each side's start-up
// goes: user and system CPU, page faults, context switches, Go's package
// initialisation (GODEBUG=inittrace=1), the dynamic loader's work for
// check_smtp (LD_DEBUG=statistics), and mailmon-check under GOMAXPROCS=1
// and GOGC=off. The result is written as Markdown under bench/results.
// "make bench-plugin" runs it.
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
	"sync"
	"syscall"
	"time"

	"github.com/mailmon/mailmon/internal/bench/farm"
	"github.com/mailmon/mailmon/internal/bench/harness"
	"github.com/mailmon/mailmon/internal/demo"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

func main() {
	check := flag.String("check", "bin/mailmon-check", "the mailmon-check binary")
	bin := flag.String("mailmon", "bin/mailmon", "the mailmon binary (its \"mailmon check\")")
	plugins := flag.String("plugins", "/usr/lib/nagios/plugins", "the Monitoring Plugins folder")
	n := flag.Int("n", 25, "measured runs of every command; each figure is the median")
	warm := flag.Int("warmup", 3, "unmeasured runs of every command first (page cache, server caches)")
	realServers := flag.Bool("real", true, "also measure against real Postfix and Dovecot")
	out := flag.String("out", "bench/results", "folder for the Markdown result")
	strict := flag.Bool("strict", false, "exit 1 when any run did not end OK (the CI smoke run)")
	flag.Parse()

	work, err := os.MkdirTemp("", "mailmon-plugin-bench-")
	must(err)
	defer os.RemoveAll(work)

	t := tools{check: *check, mailmon: *bin, plugins: *plugins, hello: buildHello(work), tlsFloor: buildTLSFloor(work)}
	cases := []*bench{t.startup()}
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

	load := watchLoad()
	for _, c := range cases {
		c.measure(*warm, *n)
	}
	loads := load()
	startup := startupDetail(t, cases[0])
	md := report(cases, *n, versions(t), loads, startup)
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

// buildHello builds the smallest Go program that writes a line, as
// mailmon-check is built (static, stripped): the Go runtime's own start.
func buildHello(work string) string {
	return buildGo(work, "hello", "import \"os\"\n\nfunc main() { os.Stdout.WriteString(\"hello\\n\") }\n")
}

// buildTLSFloor builds the hello with crypto/tls and net linked and
// nothing of them run: what the standard library's package
// initialisation and size cost any Go program that can check STARTTLS,
// before it does anything.
func buildTLSFloor(work string) string {
	return buildGo(work, "tls-floor", "import (\n\t_ \"crypto/tls\"\n\t_ \"net\"\n\t\"os\"\n)\n\n"+
		"func main() { os.Stdout.WriteString(\"hello\\n\") }\n")
}

// buildGo builds package main of body as mailmon-check is built, then
// copies the binary, as an install writes it: run from the linker's fresh
// output a process cost 10-12 % more CPU than from a copy of the same
// bytes (docs/plugin.md), which the Makefile's bench-plugin spares
// mailmon's binaries too.
func buildGo(work, name, body string) string {
	dir := filepath.Join(work, name)
	must(os.MkdirAll(dir, 0o755))
	must(os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\n"+body), 0o644))
	must(os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module "+name+"\n"), 0o644))
	linked := filepath.Join(work, name+"-go.linked")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", linked, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		must(fmt.Errorf("building the Go %s: %v: %s", name, err, out))
	}
	b, err := os.ReadFile(linked)
	must(err)
	bin := filepath.Join(work, name+"-go")
	must(os.WriteFile(bin, b, 0o755))
	must(os.Remove(linked))
	return bin
}

type tools struct{ check, mailmon, plugins, hello, tlsFloor string }

func (t tools) plugin(name string) string { return filepath.Join(t.plugins, name) }

// Which tool is which in a bench's list: the three compared, then
// others where a case has them.
const (
	mailmonCheck = iota // mailmon-check
	mailmonSub          // mailmon check
	pluginTool          // the Monitoring Plugin
)

// startup is the start-up alone: -V, which every tool answers without
// touching the network, beside the floors and mailmon-check's variants.
func (t tools) startup() *bench {
	return &bench{name: "start-up alone", target: "none", tools: []*tool{
		{name: "mailmon-check", argv: []string{t.check, "-V"}, exit: 3},
		{name: "mailmon check", argv: []string{t.mailmon, "check", "-V"}, exit: 3},
		{name: "plug-in", argv: []string{t.plugin("check_smtp"), "-V"}, exit: 3}, // -V exits 3, as the guidelines ask
		{name: "mailmon-check, GOMAXPROCS=1", argv: []string{t.check, "-V"}, env: []string{"GOMAXPROCS=1"}, exit: 3},
		{name: "mailmon-check, GOGC=off", argv: []string{t.check, "-V"}, env: []string{"GOGC=off"}, exit: 3},
		{name: "Go hello (the Go runtime alone)", argv: []string{t.hello}},
		{name: "Go hello linking crypto/tls and net (the standard library's floor for a TLS check)", argv: []string{t.tlsFloor}},
		{name: "/bin/true (any process)", argv: []string{"/bin/true"}},
	}}
}

// cases are the checks of a site, each as mailmon-check, "mailmon check"
// and the plug-in its users would replace them with would run it. All
// speak the same conversation: greeting, EHLO, [STARTTLS, EHLO,] QUIT;
// POP3 greeting and QUIT (mailmon also asks CAPA); IMAP greeting and
// LOGOUT (mailmon also asks CAPABILITY). mailmon verifies the
// certificate; check_smtp -S cannot. The farm's SMTP checks also run
// mailmon-check under GOMAXPROCS=1 and GOGC=off.
func (t tools) cases(s site) []*bench {
	hp := func(addr string) []string {
		host, port, _ := net.SplitHostPort(addr)
		return []string{"-H", host, "-p", port}
	}
	mine := func(typ, addr string, more ...string) []*tool {
		args := append(append([]string{typ}, hp(addr)...), more...)
		return []*tool{
			{name: "mailmon-check", argv: append([]string{t.check}, args...)},
			{name: "mailmon check", argv: append([]string{t.mailmon, "check"}, args...)},
		}
	}
	pl := func(name, addr string, more ...string) *tool {
		return &tool{name: "plug-in", argv: append(append([]string{t.plugin(name)}, hp(addr)...), more...)}
	}
	variants := func(tl []*tool) []*tool {
		if s.name != "farm" {
			return tl
		}
		return append(tl,
			&tool{name: "mailmon-check, GOMAXPROCS=1", argv: tl[mailmonCheck].argv, env: []string{"GOMAXPROCS=1"}},
			&tool{name: "mailmon-check, GOGC=off", argv: tl[mailmonCheck].argv, env: []string{"GOGC=off"}})
	}
	tls := []string{"-S", "--ca", s.caFile, "--servername", s.serverName}
	return []*bench{
		{name: "smtp", target: s.name, tools: variants(append(mine("smtp", s.smtp), pl("check_smtp", s.smtp)))},
		{name: "smtp STARTTLS", target: s.name, tools: variants(append(mine("smtp", s.smtpTLS, tls...), pl("check_smtp", s.smtpTLS, "-S")))},
		{name: "pop3", target: s.name, tools: append(mine("pop3", s.pop3), pl("check_pop", s.pop3))},
		{name: "imap", target: s.name, tools: append(mine("imap", s.imap), pl("check_imap", s.imap))},
	}
}

// bench is one check as the tools run it, and what they cost.
type bench struct {
	name, target string
	tools        []*tool // mailmonCheck, mailmonSub, pluginTool, then others
	errs         int
	firstErr     string
}

// tool is one command line of a bench and its runs.
type tool struct {
	name string
	argv []string
	env  []string // added to the environment
	exit int      // the exit code when all is well
	runs []run
}

// run is one process's cost, from its rusage: its own user and system
// time (not the cost of forking it), its minor page faults and context
// switches, and the wall time from start to exit.
type run struct {
	user, sys, wall time.Duration
	faults, ctxsw   int64
}

func (r run) cpu() time.Duration { return r.user + r.sys }

// measure runs the commands warm+n times, taking turns and rotating
// which goes first, so that what else the machine does falls on all
// alike. Only runs that ended as expected count.
func (b *bench) measure(warm, n int) {
	for i := 0; i < warm+n; i++ {
		for j := range b.tools {
			tl := b.tools[(i+j)%len(b.tools)]
			r, err := once(tl.argv, tl.env, tl.exit)
			if err != nil {
				b.errs++
				if b.firstErr == "" {
					b.firstErr = err.Error()
				}
				continue
			}
			if i >= warm {
				tl.runs = append(tl.runs, r)
			}
		}
	}
	fmt.Printf("%-16s %-15s mailmon-check %s  mailmon check %s  plug-in %s  errors %d %s\n", b.name, b.target,
		median(b.tools[mailmonCheck].runs), median(b.tools[mailmonSub].runs), median(b.tools[pluginTool].runs), b.errs, b.firstErr)
}

// once runs argv and measures it.
func once(argv, env []string, wantExit int) (run, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(harness.Env(), env...)
	t0 := time.Now()
	out, err := cmd.Output()
	wall := time.Since(t0)
	if cmd.ProcessState == nil {
		return run{}, err
	}
	if code := cmd.ProcessState.ExitCode(); code != wantExit {
		return run{}, fmt.Errorf("%s: exit %d, want %d: %.200s", filepath.Base(argv[0]), code, wantExit, out)
	}
	r := run{user: cmd.ProcessState.UserTime(), sys: cmd.ProcessState.SystemTime(), wall: wall}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.faults, r.ctxsw = ru.Minflt, ru.Nvcsw+ru.Nivcsw
	}
	return r, nil
}

// stats are the medians of some runs, each figure on its own.
type stats struct {
	cpu, user, sys, wall time.Duration
	faults, ctxsw        int64
}

func median(rs []run) stats {
	if len(rs) == 0 {
		return stats{}
	}
	return stats{
		cpu:    mid(rs, func(r run) time.Duration { return r.cpu() }),
		user:   mid(rs, func(r run) time.Duration { return r.user }),
		sys:    mid(rs, func(r run) time.Duration { return r.sys }),
		wall:   mid(rs, func(r run) time.Duration { return r.wall }),
		faults: mid(rs, func(r run) int64 { return r.faults }),
		ctxsw:  mid(rs, func(r run) int64 { return r.ctxsw }),
	}
}

func mid[T int64 | time.Duration](rs []run, f func(run) T) T {
	v := make([]T, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func (s stats) String() string {
	return fmt.Sprintf("CPU %5.2f ms wall %5.2f ms", ms(s.cpu), ms(s.wall))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// watchLoad samples the 1-minute load average every second until the
// returned function is called, which returns the samples.
func watchLoad() func() []float64 {
	var (
		mu      sync.Mutex
		samples []float64
	)
	sample := func() {
		if l, ok := loadAvg(); ok {
			mu.Lock()
			samples = append(samples, l)
			mu.Unlock()
		}
	}
	sample()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				sample()
			}
		}
	}()
	return func() []float64 {
		close(stop)
		<-done
		sample()
		mu.Lock()
		defer mu.Unlock()
		return samples
	}
}

// versions names what was measured.
func versions(t tools) string {
	first := func(argv ...string) string {
		out, _ := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		l, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		return l
	}
	return "mailmon-check " + first(t.check, "-V") + "; " + first(t.plugin("check_smtp"), "-V")
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "plugin bench:", err)
		os.Exit(1)
	}
}
