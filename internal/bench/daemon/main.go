// Command daemon benchmarks "mailmon serve" at scale: N monitors at a 60 s
// interval against loopback responders, for a while each, measuring the
// daemon's CPU per test, peak RSS per monitor, scheduler lag and stored
// bytes per result, next to the raw socket's CPU per check of the same
// kinds against the same responders in the same run (the peers
// benchmark's raw child: by kind at saturation, and the whole mix paced
// at serve's own rate). It also times the apply of each run's file and,
// while serve is measured, fetches /metrics, the board's first page and
// the API's first page (endpoints.go); report.go writes the table and a
// line per goal. "make bench-daemon" runs it.
//
// Two mixes: "ca", half the monitors smtp with STARTTLS verified against a
// `ca:` file and half smtp banners; "lean", 10% STARTTLS (ca: file), 45%
// smtp banners and 45% tcp, the mix of the 100,000-monitor goal.
//
// With a short interval it finds the daemon's saturation instead, e.g.
// "-monitors 6000:banner -interval 1s -duration 1m": tests per second and
// CPU per test once the scheduler can no longer keep up.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite"

	"github.com/mailmon/mailmon/internal/bench/farm"
	"github.com/mailmon/mailmon/internal/bench/harness"
	"github.com/mailmon/mailmon/internal/bench/procstat"
	"github.com/mailmon/mailmon/internal/bench/rawcheck"
	"github.com/mailmon/mailmon/internal/demo"
)

// kind is one kind of monitor of a mix, and the raw check that does the
// same conversation.
type kind struct {
	name     string // the raw child's -check
	starttls bool
	tcp      bool
}

var (
	banner   = kind{name: "smtp-banner"}
	starttls = kind{name: "smtp-starttls", starttls: true}
	tcpOnly  = kind{name: "tcp", tcp: true}
)

// mix is the share of each kind, in percent.
type mix struct {
	name   string
	shares []share
}

type share struct {
	k   kind
	pct int
}

var mixes = map[string]mix{
	"ca":     {"ca", []share{{starttls, 50}, {banner, 50}}},
	"lean":   {"lean", []share{{starttls, 10}, {banner, 45}, {tcpOnly, 45}}},
	"banner": {"banner", []share{{banner, 100}}},
}

// describe says what a mix is, for the report.
func (m mix) describe() string {
	var parts []string
	for _, s := range m.shares {
		what := map[string]string{"smtp-banner": "smtp banner + EHLO", "smtp-starttls": "smtp STARTTLS with a `ca:` file", "tcp": "tcp connect"}[s.k.name]
		parts = append(parts, fmt.Sprintf("%d%% %s", s.pct, what))
	}
	return strings.Join(parts, ", ")
}

// kindOf is the kind of the i-th monitor: within each hundred, the kinds
// take their shares in turn.
func (m mix) kindOf(i int) kind { return m.shares[rawcheck.Pick(m.pcts(), i)].k }

func (m mix) pcts() []int {
	var p []int
	for _, s := range m.shares {
		p = append(p, s.pct)
	}
	return p
}

// The web UI's login the benchmark makes to fetch the board.
const webUser, webPassword = "bench", "bench-web-password-0123456789"

type row struct {
	monitors       int
	mix            mix
	cores, rssMiB  float64
	lagP50, lagP99 float64
	// lagP99Worst is the highest lag p99 polled each second over the run
	// (lagP99 is the run's end's: the scheduler's last 4,096 tests).
	lagP99Worst    float64
	tests          int64
	testsPerSec    float64
	bytesPerResult float64
	raw            map[string]float64 // kind → raw CPU ms per check
	rawErr         string
	// The raw child paced at the daemon's own rate (testsPerSec), the
	// mix's checks in one process, as serve's scheduler starts them.
	rawPaced     float64 // CPU ms per check of the mix
	rawPacedLate time.Duration
	rawPacedErr  string
	load0, load1 string
	// startCPU is serve's CPU seconds before it listened (opening the
	// database, loading the monitors): not in cores, which start then.
	startCPU float64
	// startWall is how long serve took to listen, from its exec; wall
	// the window cores is measured over, from then.
	startWall, wall float64
	minutes         minutes        // serve's CPU a minute, from when it listened
	details         []minuteDetail // beside each minute's CPU: where it went
	history         int            // results a monitor had stored before serve started (-history)
	historyAge      time.Duration  // how long before serve's start they ended (-history-age)
	historyResults  int64          // all of them
	apply           harness.Applied
	answers         []answers // /metrics, the board, the API, fetched while measured
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == fetcherArg {
		check(beTheFetcher(os.Stdin, os.Stdout, os.Getenv(fetcherURL), os.Getenv(fetcherToken)))
		return
	}
	bin := flag.String("mailmon", "bin/mailmon", "the mailmon binary")
	peers := flag.String("peers", "bin/bench-peers", "the peers benchmark's binary, whose raw child (-role raw) is the baseline (make bench-daemon builds it)")
	sizes := flag.String("monitors", "1000,5000,20000,100000:lean", "runs, comma-separated: a monitor count and its mix (ca, lean or banner; default ca)")
	dur := flag.Duration("duration", 3*time.Minute, "how long each run measures")
	interval := flag.Duration("interval", time.Minute, "the monitors' interval")
	rawWindow := flag.Duration("raw-window", 5*time.Second, "the raw baseline's measuring window per kind of check, and of the mix paced at the daemon's rate (0: no baseline)")
	answerEvery := flag.Duration("answer-every", 20*time.Second, "how often /metrics, the board's first page and the API's first page are each fetched while a run is measured (0: never)")
	profile := flag.String("profile", "", "a folder for pprof profiles of serve (CPU over -profile-window, allocations and heap at its end); empty: none")
	profileWhen := flag.String("profile-window", "middle", "the CPU profile's window: middle (the middle third of each run, the steady state), first (60 s from serve's start: loading the monitors, then every monitor's first test) or minutes (a profile of each minute from serve's listening, the CPU a minute's windows: SIZE-MIX-cpu-minN.pprof)")
	traceAt := flag.String("trace", "", "runtime/trace windows of serve, comma-separated offsets from when it listened (such as 19s,77s: /metrics is fetched every -answer-every from then), each -trace-for long, saved as SIZE-MIX-trace-OFFSET.out in -profile's folder; empty: none")
	traceFor := flag.Duration("trace-for", 4*time.Second, "the length of each -trace window")
	history := flag.Int("history", 0, "results each monitor has already stored when serve starts, an interval apart (60: an hour at 60 s), so that a new result's leaf is met among a used database's; 0: an empty results table")
	historyAge := flag.Duration("history-age", 0, "how long before serve starts the -history ends (its last result an interval before that): 168h, the raw retention, makes serve's first janitor pass prune it all, as the hourly prune does an hour's results at that size")
	out := flag.String("out", "bench/results", "folder for the Markdown results")
	flag.Parse()
	if _, _, err := profileWindow(*profileWhen, *dur); err != nil {
		check(err)
	}
	traces, err := traceWindows(*traceAt, *traceFor, *profile)
	check(err)

	work, err := os.MkdirTemp("", "mailmon-bench-")
	check(err)
	defer os.RemoveAll(work)
	tlsCfg, caFile, err := demo.SelfSigned(work)
	check(err)
	servers := map[string][]*farm.Server{}
	for i := 0; i < 2; i++ {
		p, err := farm.Start(farm.SMTP, farm.NoTLS, nil)
		check(err)
		s, err := farm.Start(farm.SMTP, farm.StartTLS, tlsCfg)
		check(err)
		servers[banner.name] = append(servers[banner.name], p)
		servers[tcpOnly.name] = append(servers[tcpOnly.name], p)
		servers[starttls.name] = append(servers[starttls.name], s)
	}

	var rows []row
	for _, f := range strings.Split(*sizes, ",") {
		ns, mname, _ := strings.Cut(strings.TrimSpace(f), ":")
		n, err := strconv.Atoi(ns)
		check(err)
		if mname == "" {
			mname = "ca"
		}
		m, ok := mixes[mname]
		if !ok {
			check(fmt.Errorf("-monitors %s: no mix %q (ca, lean or banner)", f, mname))
		}
		r := run(*bin, work, caFile, n, m, *dur, *interval, *answerEvery, servers, *profile, *profileWhen, traces, *history, *historyAge)
		if *rawWindow > 0 {
			r.raw, r.rawErr = baseline(*peers, m, servers, caFile, *rawWindow)
			rate := r.testsPerSec
			if rate <= 0 {
				rate = float64(n) / interval.Seconds()
			}
			r.rawPaced, r.rawPacedLate, r.rawPacedErr = pacedBaseline(*peers, m, servers, caFile, *rawWindow, rate)
		}
		fmt.Printf("%d monitors (%s): apply %.1f s (%.1f CPU s), %.1f CPU s before listening, %.3f cores (a minute: %s), %.0f MiB peak RSS (%.1f KiB/monitor), lag p50 %.1f ms p99 %.1f ms, %d tests (%.0f/s, %.3f CPU ms each; raw saturated %.3f, %.2f×; raw paced %.3f, %.2f×), %.1f bytes/result; load %s → %s %s %s\n",
			r.monitors, m.name, r.apply.Wall.Seconds(), r.apply.CPU, r.startCPU, r.cores, r.minutes, r.rssMiB, r.kibPerMonitor(), r.lagP50, r.lagP99, r.tests, r.testsPerSec, r.cpuPerTest(),
			r.rawPerTest(), r.ratio(), r.rawPaced, r.pacedRatio(), r.bytesPerResult, r.load0, r.load1, r.rawErr, r.rawPacedErr)
		for _, a := range r.answers {
			fmt.Printf("  %s: %d fetches, p50 %v, max %v, %d bytes %s %s\n", a.name, a.n, a.p50.Round(time.Millisecond), a.max.Round(time.Millisecond), a.bytes, a.encoding, a.firstErr)
		}
		rows = append(rows, r)
	}
	table := report(rows, *dur, *interval, *answerEvery)
	fmt.Print("\n" + table)
	check(os.MkdirAll(*out, 0o755))
	name := filepath.Join(*out, "daemon-"+time.Now().UTC().Format("2006-01-02")+".md")
	check(os.WriteFile(name, []byte(table), 0o644))
	fmt.Println("written to", name)
}

// cpuPerTest is the daemon's CPU milliseconds per test.
func (r row) cpuPerTest() float64 {
	if r.testsPerSec == 0 {
		return 0
	}
	return r.cores * 1000 / r.testsPerSec
}

// rawPerTest is the raw socket's CPU milliseconds per check of the same mix.
func (r row) rawPerTest() float64 {
	var ms float64
	for _, s := range r.mix.shares {
		ms += r.raw[s.k.name] * float64(s.pct) / 100
	}
	return ms
}

// ratio is the daemon's CPU per test over the saturated raw child's.
func (r row) ratio() float64 {
	if raw := r.rawPerTest(); raw > 0 && r.rawErr == "" {
		return r.cpuPerTest() / raw
	}
	return 0
}

// pacedRatio is the daemon's CPU per test over the paced raw child's.
func (r row) pacedRatio() float64 {
	if r.rawPaced > 0 && r.rawPacedErr == "" {
		return r.cpuPerTest() / r.rawPaced
	}
	return 0
}

// coresFromExec is serve's CPU from its exec to the run's end, over that
// time: the load before it listened included.
func (r row) coresFromExec() float64 {
	if r.wall+r.startWall <= 0 {
		return r.cores
	}
	return (r.cores*r.wall + r.startCPU) / (r.wall + r.startWall)
}

func (r row) kibPerMonitor() float64 { return r.rssMiB * 1024 / float64(r.monitors) }

// baseline runs the peers benchmark's raw child for each kind of the mix,
// against the same responders, and returns its CPU milliseconds per check;
// for STARTTLS also with the X25519 key share alone ("smtp-starttls-x25519"),
// to weigh Go's default hybrid post-quantum key share.
func baseline(peers string, m mix, servers map[string][]*farm.Server, caFile string, window time.Duration) (map[string]float64, string) {
	out := map[string]float64{}
	var errs []string
	one := func(k kind, key string, extra ...string) {
		ms, _, err := rawChild(peers, append([]string{"-check", k.name, "-addr", servers[k.name][0].Addr(), "-ca", caFile,
			"-workers", "4", "-window", window.String()}, extra...)...)
		if err != nil {
			errs = append(errs, fmt.Sprintf("raw %s: %v", key, err))
			return
		}
		out[key] = ms
	}
	for _, s := range m.shares {
		one(s.k, s.k.name)
		if s.k.starttls {
			one(s.k, s.k.name+"-x25519", "-x25519")
		}
	}
	return out, strings.Join(errs, "; ")
}

// pacedBaseline runs the raw child paced at rate checks a second, the
// mix's kinds in one process by their shares, against the same
// responders, and returns its CPU milliseconds per check: the raw cost of
// the daemon's own work, waking for each test as a scheduler does.
func pacedBaseline(peers string, m mix, servers map[string][]*farm.Server, caFile string, window time.Duration, rate float64) (float64, time.Duration, string) {
	var names, addrs, shares []string
	for _, s := range m.shares {
		names, addrs = append(names, s.k.name), append(addrs, servers[s.k.name][0].Addr())
		shares = append(shares, strconv.Itoa(s.pct))
	}
	ms, rep, err := rawChild(peers, "-check", strings.Join(names, ","), "-addr", strings.Join(addrs, ","), "-shares", strings.Join(shares, ","),
		"-ca", caFile, "-rate", strconv.FormatFloat(rate, 'f', 1, 64), "-window", window.String())
	if err == nil && rep.LateP99 > pacedLateMax {
		err = fmt.Errorf("behind its pace (the checks' starts p99 %v late): not paced", rep.LateP99.Round(time.Millisecond))
	}
	if err != nil {
		return 0, rep.LateP99, fmt.Sprintf("raw paced at %.0f/s: %v", rate, err)
	}
	return ms, rep.LateP99, ""
}

// pacedLateMax is how late the paced raw child's checks may start (p99):
// serve's own lag goal. Later, it batches its checks and is no baseline.
const pacedLateMax = time.Second

// rawChild runs the peers benchmark's raw child (-role raw) with args and
// returns its CPU milliseconds per check and its report; a check that
// failed is an error.
func rawChild(peers string, args ...string) (float64, rawcheck.Report, error) {
	cmd := exec.Command(peers, append([]string{"-role", "raw", "-servername", "localhost", "-warmup", "1s"}, args...)...)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	var rep rawcheck.Report
	if err == nil {
		err = json.Unmarshal(b, &rep)
	}
	switch {
	case err != nil:
		return 0, rep, err
	case rep.OK == 0 || rep.Errs > 0:
		return 0, rep, fmt.Errorf("%d ok, %d errors: %s", rep.OK, rep.Errs, rep.FirstErr)
	}
	return rep.CPU * 1000 / float64(rep.OK), rep, nil
}

func run(bin, work, caFile string, n int, m mix, dur, interval, answerEvery time.Duration, servers map[string][]*farm.Server, profile, profileWhen string, traces traceSet, history int, historyAge time.Duration) row {
	dir := filepath.Join(work, strconv.Itoa(n)+m.name)
	check(os.MkdirAll(dir, 0o700))
	db := filepath.Join(dir, "mailmon.db")
	// A test may take most of an interval (10 s at most), so that a short
	// interval still makes a valid configuration.
	maxDur := min(10*time.Second, interval*9/10)
	var y strings.Builder
	y.WriteString("devices:\n")
	for i := 0; i < n; i++ {
		if i%100 == 0 {
			fmt.Fprintf(&y, "  - name: device%d\n    address: 127.0.0.1\n    monitors:\n", i/100)
		}
		k := m.kindOf(i)
		port := servers[k.name][i/2%len(servers[k.name])].Port()
		timing := fmt.Sprintf("timing: {max_duration: %s, up_every: %s}", maxDur, interval)
		switch {
		case k.tcp:
			fmt.Fprintf(&y, "      - {name: tcp%d, type: tcp, port: %d, %s}\n", i, port, timing)
		case k.starttls:
			fmt.Fprintf(&y, "      - {name: smtp%d, type: smtp, port: %d, tls: starttls, ca: %q, servername: localhost, ehlo: bench, %s}\n", i, port, caFile, timing)
		default:
			fmt.Fprintf(&y, "      - {name: smtp%d, type: smtp, port: %d, ehlo: bench, %s}\n", i, port, timing)
		}
	}
	cfg := filepath.Join(dir, "bench.yaml")
	check(os.WriteFile(cfg, []byte(y.String()), 0o600))
	applied, err := harness.Apply(bin, db, cfg)
	check(err)
	tok, err := harness.Token(bin, db)
	check(err)
	check(harness.AddUser(bin, db, webUser, webPassword))
	filled, err := fillHistory(context.Background(), db, history, interval, historyAge)
	check(err)
	// A short interval measures saturation: serve's minimum must allow it.
	args := []string{"--min-interval", interval.String()}
	var pprofAddr string
	if profile != "" {
		check(os.MkdirAll(profile, 0o755))
		pprofAddr = freeLoopback()
		args = append(args, "--debug-pprof", pprofAddr)
	}
	load0 := loadAvg()
	prefix := filepath.Join(profile, fmt.Sprintf("serve-%d-%s", n, m.name))
	profiled := make(chan struct{})
	delay, length, _ := profileWindow(profileWhen, dur)
	if profile != "" && delay == 0 && profileWhen != "minutes" {
		// The first minute's profile starts as soon as serve's pprof
		// listener answers, before serve loads its monitors (serve
		// starts it first), so that it has the load too.
		go func() {
			defer close(profiled)
			waitListening(pprofAddr, time.Minute)
			saveProfile(pprofAddr, fmt.Sprintf("profile?seconds=%d", max(1, int(length.Seconds()))), prefix+"-cpu.pprof")
		}()
	}
	execAt := time.Now()
	d, err := harness.Serve(bin, db, tok, args...)
	check(err)

	st0, err := d.Status()
	check(err)
	start := time.Now()
	startWall := start.Sub(execAt).Seconds()
	fr, err := startFetcher(d.URL, tok)
	check(err)
	stopAnswers, answered := make(chan struct{}), make(chan [][]fetch, 1)
	go func() {
		answered <- sample(fr.names, fr.fetch, start, schedule(dur, answerEvery, len(fr.names)), stopAnswers)
	}()
	var pk peaks
	go pk.poll(func() (float64, float64, error) {
		st, err := d.Status()
		return st.LagP99, st.LagMax, err
	}, func() float64 { return fileMiB(db + "-wal") }, stopAnswers)
	cpu0 := procstat.CPUSeconds(d.Cmd.Process.Pid)
	var mins minutes
	mins.sample(0, cpu0)
	var details []minuteDetail
	last, lastGC, lastTests := procstat.Count(d.Cmd.Process.Pid), int64(-1), st0.TestsStarted
	if gc, _, ok := runtimeMem(pprofAddr); ok {
		lastGC = gc
	}
	detail := func() {
		c := procstat.Count(d.Cmd.Process.Pid)
		m := minuteDetail{Counters: c.Sub(last), secs: (mins.at[len(mins.at)-1] - mins.at[len(mins.at)-2]).Seconds(), rssMiB: procstat.RSSMiB(d.Cmd.Process.Pid), dbMiB: fileMiB(db), walMiB: fileMiB(db + "-wal"), gc: -1}
		if gc, heap, ok := runtimeMem(pprofAddr); ok {
			if lastGC >= 0 {
				m.gc = gc - lastGC
			}
			m.heapMiB, lastGC = float64(heap)/(1<<20), gc
		}
		if st, err := d.Status(); err == nil {
			m.tests, lastTests = st.TestsStarted-lastTests, st.TestsStarted
		}
		last = c
		details = append(details, m)
		fmt.Printf("  minute %d: tests | CPU ms/test | user | sys (cores) | minflt | majflt | read calls | write calls | read MiB | written MiB | GCs | heap MiB | RSS MiB | db MiB | WAL MiB | threads: %s\n", len(details), m)
		fmt.Printf("  minute %d: %s\n", len(details), &pk)
	}
	if profile != "" && profileWhen == "minutes" {
		go func() {
			defer close(profiled)
			for i, l := range minuteProfiles(dur) {
				saveProfile(pprofAddr, fmt.Sprintf("profile?seconds=%d", max(1, int(l.Seconds()))), minuteFile(prefix, i+1))
			}
		}()
	} else if profile != "" && delay > 0 {
		go func() {
			defer close(profiled)
			time.Sleep(delay)
			saveProfile(pprofAddr, fmt.Sprintf("profile?seconds=%d", max(1, int(length.Seconds()))), prefix+"-cpu.pprof")
		}()
	} else if profile == "" {
		close(profiled)
	}
	traced := traces.take(pprofAddr, prefix, start, stopAnswers)
	var rss float64
	for time.Since(start) < dur {
		// Every 2 s, and at each minute from the start for the CPU a minute.
		since := time.Since(start)
		next := since.Truncate(time.Minute) + time.Minute
		time.Sleep(min(2*time.Second, next-since, dur-since))
		rss = max(rss, procstat.RSSMiB(d.Cmd.Process.Pid))
		if since = time.Since(start); since < dur && mins.due(since) {
			mins.sample(since, procstat.CPUSeconds(d.Cmd.Process.Pid))
			detail()
		}
	}
	cpuEnd := procstat.CPUSeconds(d.Cmd.Process.Pid)
	cpu := cpuEnd - cpu0
	wall := time.Since(start).Seconds()
	mins.sample(time.Since(start), cpuEnd)
	detail()
	close(stopAnswers)
	fetched := <-answered
	fr.close()
	st, err := d.Status()
	check(err)
	<-profiled
	<-traced
	if profile != "" {
		saveProfile(pprofAddr, "allocs", prefix+"-allocs.pprof")
		saveProfile(pprofAddr, "heap?gc=1", prefix+"-heap.pprof")
	}
	d.Stop()

	sdb, err := sql.Open("sqlite", "file:"+db)
	check(err)
	defer sdb.Close()
	sdb.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	var results int64
	check(sdb.QueryRow(`SELECT count(*) FROM results`).Scan(&results))
	var pages, pageSize, free int64
	sdb.QueryRow(`PRAGMA page_count`).Scan(&pages)
	sdb.QueryRow(`PRAGMA page_size`).Scan(&pageSize)
	sdb.QueryRow(`PRAGMA freelist_count`).Scan(&free)
	var resultBytes int64
	// The results table's own pages (dbstat is not compiled in everywhere:
	// fall back to the whole file).
	if err := sdb.QueryRow(`SELECT sum(pgsize) FROM dbstat WHERE name='results'`).Scan(&resultBytes); err != nil || resultBytes == 0 {
		resultBytes = (pages - free) * pageSize
	}
	r := row{monitors: n, mix: m, cores: cpu / wall, rssMiB: rss, lagP50: st.LagP50, lagP99: st.LagP99, tests: st.TestsStarted,
		testsPerSec: float64(st.TestsStarted-st0.TestsStarted) / wall, // in the window the CPU is measured over
		load0:       load0, load1: loadAvg(), apply: applied, startCPU: cpu0, startWall: startWall, wall: wall, minutes: mins, details: details, history: history, historyAge: historyAge, historyResults: filled}
	r.lagP99Worst, _ = pk.worst()
	r.lagP99Worst = max(r.lagP99Worst, r.lagP99)
	for i, name := range fr.names {
		if answerEvery > 0 { // else none was asked for: said as such
			r.answers = append(r.answers, summarize(name, fetched[i]))
			if name == "/metrics" {
				r.answers = append(r.answers, summarize(steadyMetrics, steady(fetched[i])))
			}
		}
	}
	if results > 0 {
		r.bytesPerResult = float64(resultBytes) / float64(results)
	}
	return r
}

// freeLoopback is a loopback address with a port free a moment ago.
func freeLoopback() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer ln.Close()
	return ln.Addr().String()
}

// waitListening waits until addr accepts a connection, for at most wait.
func waitListening(addr string, wait time.Duration) {
	for end := time.Now().Add(wait); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
	}
}

// saveProfile saves one of serve's profiles (--debug-pprof) to file.
func saveProfile(addr, what, file string) {
	c := http.Client{Timeout: 10 * time.Minute}
	resp, err := c.Get("http://" + addr + "/debug/pprof/" + what)
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(file)
	check(err)
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
	}
}

// runtimeMem is serve's GC cycles so far and its Go heap in use, from the
// heap profile's text form (--debug-pprof at addr); ok is false without
// it.
func runtimeMem(addr string) (numGC, heapAlloc int64, ok bool) {
	if addr == "" {
		return 0, 0, false
	}
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + "/debug/pprof/heap?debug=1")
	if err != nil {
		return 0, 0, false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return 0, 0, false
	}
	return memStats(string(b))
}

// fileMiB is a file's size, 0 if it is not there.
func fileMiB(name string) float64 {
	fi, err := os.Stat(name)
	if err != nil {
		return 0
	}
	return float64(fi.Size()) / (1 << 20)
}

// loadAvg is the machine's 1-minute load average.
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
