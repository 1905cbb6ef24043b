package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mailmon/mailmon/internal/bench/harness"
	"github.com/mailmon/mailmon/internal/bench/procstat"
	"github.com/mailmon/mailmon/internal/bench/rawcheck"
)

// check is one kind of banner check, the same for every tool.
type check struct {
	name  string
	proto string // smtp, pop3, imap
	mode  string // none, starttls, implicit
}

var checks = []check{
	{"smtp-banner", "smtp", "none"},
	{"smtp-starttls", "smtp", "starttls"},
	{"pop3-tls", "pop3", "implicit"},
	{"imap-starttls", "imap", "starttls"},
}

// site is a set of targets: the in-process farm or real Postfix/Dovecot.
type site struct {
	name       string
	addrs      map[string]string // check name → host:port
	caFile     string
	serverName string
	// server returns the session latencies the target saw since the last
	// call, or nil when the target cannot tell.
	server func(check string) []time.Duration
}

// tool runs checks against a site at a concurrency and measures itself.
type tool interface {
	name() string
	// unsupported says why the tool cannot run a check, or "".
	unsupported(c check) string
	start(s *site, dir string) error
	run(c check, s *site, workers int, warmup, window time.Duration) result
	stop()
}

// result is one tool's figures for one check.
type result struct {
	tool, check   string
	na            string // not applicable: why
	rate          float64
	cpuPer1000    float64 // CPU seconds per 1,000 checks
	rssMiB        float64
	p50, p99      time.Duration
	srvP50        time.Duration
	srvP99        time.Duration
	srvKnown      bool
	ok, errs      int
	firstErr      string
	workers       int
	windowSeconds float64
}

func finish(t tool, c check, o outcome, cpu, rss float64, workers int) result {
	r := result{tool: t.name(), check: c.name, rssMiB: rss, p50: o.p50, p99: o.p99, ok: o.ok, errs: o.errs,
		firstErr: o.firstErr, workers: workers, windowSeconds: o.window.Seconds()}
	r.rate = float64(o.ok) / o.window.Seconds()
	if o.ok > 0 {
		r.cpuPer1000 = cpu / float64(o.ok) * 1000
	}
	return r
}

// --- raw: the baseline, in a child process of this harness ----------------

type rawTool struct{ self string }

func (rawTool) name() string              { return "raw socket" }
func (rawTool) unsupported(check) string  { return "" }
func (rawTool) start(*site, string) error { return nil }
func (rawTool) stop()                     {}

func (t rawTool) run(c check, s *site, workers int, warmup, window time.Duration) result {
	cmd := exec.Command(t.self, "-role", "raw", "-check", c.name, "-addr", s.addrs[c.name], "-ca", s.caFile,
		"-servername", s.serverName, "-workers", strconv.Itoa(workers), "-warmup", warmup.String(), "-window", window.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	var rep rawcheck.Report
	if err == nil {
		err = json.Unmarshal(out, &rep)
	}
	if err != nil {
		return result{tool: t.name(), check: c.name, firstErr: err.Error(), errs: 1}
	}
	o := outcome{ok: rep.OK, errs: rep.Errs, firstErr: rep.FirstErr, p50: rep.P50, p99: rep.P99, window: rep.Window}
	return finish(t, c, o, rep.CPU, rep.RSSMiB, workers)
}

// rawChild is the child's side: it measures its own CPU in the window.
// The daemon benchmark runs it too (-role raw), for its tcp monitors with
// -check tcp, and paced (rate > 0) for its mixes: then name and addr may
// list several checks, comma-separated, that share the checks by the
// percentages shares, as the daemon's monitors do (rawcheck.Pick).
func rawChild(name, addr, caFile, serverName string, x25519 bool, workers int, warmup, window time.Duration, rate float64, shares string) {
	names, addrs := strings.Split(name, ","), strings.Split(addr, ",")
	pcts, err := parseShares(shares, len(names))
	must(err)
	if len(addrs) != len(names) {
		must(fmt.Errorf("-addr: %d addresses for %d checks (-check)", len(addrs), len(names)))
	}
	if len(names) > 1 && rate <= 0 {
		must(errors.New("-check: several checks only paced (-rate)"))
	}
	cs := make([]check, len(names))
	for i, n := range names {
		cs[i] = rawCheckNamed(n)
	}
	cfg, err := tlsConfig(caFile, serverName)
	must(err)
	if x25519 {
		cfg.CurvePreferences = []tls.CurveID{tls.X25519}
	}
	one := func(i int) (sample, error) {
		k := rawcheck.Pick(pcts, i)
		t0 := time.Now()
		err := rawcheck.Run(cs[k].proto, cs[k].mode, addrs[k], cfg)
		return sample{reported: time.Since(t0)}, err
	}
	var cpu0 float64
	onStart, onEnd := func() { cpu0 = selfCPU() }, func() { cpu0 = selfCPU() - cpu0 }
	var o outcome
	if rate > 0 {
		o = paced(rate, warmup, window, one, onStart, onEnd)
	} else {
		o = load(workers, warmup, window, func() (sample, error) { return one(0) }, onStart, onEnd)
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	json.NewEncoder(os.Stdout).Encode(rawcheck.Report{OK: o.ok, Errs: o.errs, FirstErr: o.firstErr, CPU: cpu0,
		RSSMiB: float64(ru.Maxrss) / 1024, P50: o.p50, P99: o.p99, Window: o.window, LateP99: o.lateP99})
}

// rawCheckNamed is the check the raw child runs for -check name.
func rawCheckNamed(name string) check {
	if name == "tcp" { // the daemon benchmark's tcp monitors
		return check{name: "tcp", proto: "tcp", mode: "none"}
	}
	for _, k := range checks {
		if k.name == name {
			return k
		}
	}
	must(fmt.Errorf("-check %q: not one of tcp, smtp-banner, smtp-starttls, pop3-tls, imap-starttls", name))
	return check{}
}

// parseShares reads -shares, percentages of n checks summing to 100;
// empty, with one check, is all of it.
func parseShares(s string, n int) ([]int, error) {
	if s == "" && n == 1 {
		return []int{100}, nil
	}
	f := strings.Split(s, ",")
	if len(f) != n {
		return nil, fmt.Errorf("-shares %q: %d percentages for %d checks (-check)", s, len(f), n)
	}
	p, sum := make([]int, n), 0
	for i, v := range f {
		x, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || x < 0 {
			return nil, fmt.Errorf("-shares %q: %q is not a percentage", s, v)
		}
		p[i], sum = x, sum+x
	}
	if sum != 100 {
		return nil, fmt.Errorf("-shares %q: the percentages add up to %d, not 100", s, sum)
	}
	return p, nil
}

// selfCPU is this process's CPU seconds so far.
func selfCPU() float64 {
	cpu, _ := procstat.Self()
	return cpu.Seconds()
}

func tlsConfig(caFile, serverName string) (*tls.Config, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("no certificate in " + caFile)
	}
	return &tls.Config{RootCAs: pool, ServerName: serverName}, nil
}

// --- HTTP-driven probers: mailmon's /probe and blackbox_exporter ----------

// daemon is a long-running prober process driven over HTTP, as Prometheus
// drives blackbox_exporter: one GET per check.
type daemon struct {
	cmd    *exec.Cmd
	base   string
	header http.Header
}

// probeOnce GETs the driver's /probe URL and reads probe_success and
// probe_duration_seconds from the exposition.
func probeOnce(drv *driver) (sample, error) {
	dc, status, err := drv.get()
	if err != nil {
		return sample{}, err
	}
	defer drv.put(dc)
	body := dc.body.Bytes()
	if status != 200 {
		return sample{}, fmt.Errorf("HTTP %d: %.200s", status, body)
	}
	success, dur := metric(body, "probe_success"), metric(body, "probe_duration_seconds")
	if success != 1 {
		return sample{}, fmt.Errorf("probe_success %v", success)
	}
	return sample{reported: time.Duration(dur * float64(time.Second))}, nil
}

// metric returns the value of an unlabelled series, or -1. It scans the
// body in place: the driver's own CPU competes with the tool it drives.
func metric(body []byte, name string) float64 {
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		if len(line) > len(name) && line[len(name)] == ' ' && string(line[:len(name)]) == name {
			f, err := strconv.ParseFloat(string(bytes.TrimSpace(line[len(name)+1:])), 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// measure drives path at the concurrency, reading the process's CPU
// around the window and sampling its RSS.
func (d *daemon) measure(t tool, c check, path string, workers int, warmup, window time.Duration) result {
	pid := d.cmd.Process.Pid
	drv := newDriver(d.base, path, d.header, workers)
	if httpDriver {
		drv = newHTTPDriver(d.base, path, d.header, workers)
	}
	defer drv.close()
	var cpu float64
	var rss float64
	stopSampling := make(chan struct{})
	var wg sync.WaitGroup
	o := load(workers, warmup, window, func() (sample, error) { return probeOnce(drv) },
		func() {
			cpu = procstat.CPUSeconds(pid)
			wg.Add(1)
			go func() {
				defer wg.Done()
				tick := time.NewTicker(100 * time.Millisecond)
				defer tick.Stop()
				for {
					rss = max(rss, procstat.RSSMiB(pid))
					select {
					case <-stopSampling:
						return
					case <-tick.C:
					}
				}
			}()
		},
		func() { cpu = procstat.CPUSeconds(pid) - cpu; close(stopSampling); wg.Wait() })
	return finish(t, c, o, cpu, rss, workers)
}

func (d *daemon) stop() {
	if d == nil || d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		d.cmd.Process.Kill()
		<-done
	}
}

// freeAddr returns a free loopback address (port ≥ 20000 on Linux's
// ephemeral range).
func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	defer ln.Close()
	return ln.Addr().String()
}

// waitHTTP waits until url answers.
func waitHTTP(url string, h http.Header) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest("GET", url, nil)
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer", url)
}

// --- mailmon --------------------------------------------------------------

type mailmonTool struct {
	bin string
	d   *daemon
	ids map[string]int64 // monitor ids by check name
}

func (mailmonTool) name() string             { return "mailmon" }
func (mailmonTool) unsupported(check) string { return "" }

// start applies one monitor per check of the site (tested once at start,
// then daily: the load comes from /probe), and serves.
func (t *mailmonTool) start(s *site, dir string) error {
	var y strings.Builder
	fmt.Fprintf(&y, "devices:\n  - name: %s\n    address: 127.0.0.1\n    monitors:\n", s.name)
	for _, c := range checks {
		_, port, _ := net.SplitHostPort(s.addrs[c.name])
		fmt.Fprintf(&y, "      - {name: %s, type: %s, port: %s, timing: {max_duration: 5s, up_every: 24h}", c.name, c.proto, port)
		if c.mode != "none" {
			fmt.Fprintf(&y, ", tls: %s, ca: %q, servername: %s", c.mode, s.caFile, s.serverName)
		}
		if c.proto == "smtp" {
			y.WriteString(", ehlo: bench")
		}
		y.WriteString("}\n")
	}
	cfg := filepath.Join(dir, "mailmon.yaml")
	db := filepath.Join(dir, "mailmon.db")
	if err := os.WriteFile(cfg, []byte(y.String()), 0o600); err != nil {
		return err
	}
	tok, err := harness.Prepare(t.bin, db, cfg)
	if err != nil {
		return err
	}
	d, err := harness.Serve(t.bin, db, tok)
	if err != nil {
		return err
	}
	t.d = &daemon{cmd: d.Cmd, base: d.URL, header: http.Header{"Authorization": {"Bearer " + tok}}}
	if err := waitHTTP(t.d.base+"/healthz", nil); err != nil {
		return err
	}
	// /probe?monitor=ID: the monitor's config as the engine holds it,
	// with its CA loaded once, as a user's stored monitor would be.
	req, _ := http.NewRequest("GET", t.d.base+"/api/v1/monitors?limit=100", nil)
	req.Header = t.d.header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var list struct {
		Items []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return err
	}
	t.ids = map[string]int64{}
	for _, m := range list.Items {
		t.ids[m.Name] = m.ID
	}
	return nil
}

func (t *mailmonTool) run(c check, s *site, workers int, warmup, window time.Duration) result {
	return t.d.measure(t, c, fmt.Sprintf("/probe?monitor=%d", t.ids[c.name]), workers, warmup, window)
}

func (t *mailmonTool) stop() { t.d.stop() }

// --- blackbox_exporter ----------------------------------------------------

type blackboxTool struct {
	bin string
	d   *daemon
}

func (blackboxTool) name() string             { return "blackbox_exporter" }
func (blackboxTool) unsupported(check) string { return "" }

// blackboxModules are tcp prober modules doing each check's conversation,
// as a blackbox_exporter user would write them.
func blackboxModules(caFile, serverName string) string {
	tlsCfg := fmt.Sprintf("      tls_config: {ca_file: %q, server_name: %q}\n", caFile, serverName)
	return `modules:
  smtp-banner:
    prober: tcp
    timeout: 5s
    tcp:
      preferred_ip_protocol: ip4
      query_response:
        - expect: "^220"
        - send: "EHLO bench\r"
        - expect: "^250 "
        - send: "QUIT\r"
        - expect: "^221"
  smtp-starttls:
    prober: tcp
    timeout: 5s
    tcp:
      preferred_ip_protocol: ip4
` + tlsCfg + `      query_response:
        - expect: "^220"
        - send: "EHLO bench\r"
        - expect: "^250 "
        - send: "STARTTLS\r"
        - expect: "^220"
        - starttls: true
        - send: "EHLO bench\r"
        - expect: "^250 "
        - send: "QUIT\r"
        - expect: "^221"
  pop3-tls:
    prober: tcp
    timeout: 5s
    tcp:
      preferred_ip_protocol: ip4
      tls: true
` + tlsCfg + `      query_response:
        - expect: "^\\+OK"
        - send: "CAPA\r"
        - expect: "^\\.$"
        - send: "QUIT\r"
        - expect: "^\\+OK"
  imap-starttls:
    prober: tcp
    timeout: 5s
    tcp:
      preferred_ip_protocol: ip4
` + tlsCfg + `      query_response:
        - expect: "^\\* OK"
        - send: "a1 STARTTLS\r"
        - expect: "^a1 OK"
        - starttls: true
        - send: "a2 CAPABILITY\r"
        - expect: "^a2 OK"
        - send: "a3 LOGOUT\r"
        - expect: "^a3 OK"
`
}

func (t *blackboxTool) start(s *site, dir string) error {
	cfg := filepath.Join(dir, "blackbox.yml")
	if err := os.WriteFile(cfg, []byte(blackboxModules(s.caFile, s.serverName)), 0o600); err != nil {
		return err
	}
	addr := freeAddr()
	cmd := exec.Command(t.bin, "--config.file="+cfg, "--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return err
	}
	t.d = &daemon{cmd: cmd, base: "http://" + addr}
	return waitHTTP(t.d.base+"/metrics", nil)
}

func (t *blackboxTool) run(c check, s *site, workers int, warmup, window time.Duration) result {
	return t.d.measure(t, c, "/probe?module="+c.name+"&target="+s.addrs[c.name], workers, warmup, window)
}

func (t *blackboxTool) stop() { t.d.stop() }

// --- Monitoring Plugins: a process per check ------------------------------

type pluginsTool struct{ dir string }

func (pluginsTool) name() string { return "monitoring-plugins" }

func (pluginsTool) unsupported(c check) string {
	if c.proto == "imap" && c.mode == "starttls" {
		return "check_imap cannot do STARTTLS"
	}
	return ""
}

func (pluginsTool) start(*site, string) error { return nil }
func (pluginsTool) stop()                     {}

// argv is the plug-in command line of a check. Like most installations,
// it does not verify the certificate (check_smtp -S and check_pop -S
// cannot be given a CA).
func (t pluginsTool) argv(c check, addr string) []string {
	host, port, _ := net.SplitHostPort(addr)
	common := []string{"-H", host, "-p", port, "-t", "5"}
	switch c.name {
	case "smtp-banner":
		return append([]string{filepath.Join(t.dir, "check_smtp")}, common...)
	case "smtp-starttls":
		return append([]string{filepath.Join(t.dir, "check_smtp"), "-S"}, common...)
	case "pop3-tls":
		// CAPA as the others ask it; check_pop then sends QUIT.
		return append([]string{filepath.Join(t.dir, "check_pop"), "-S", "-E", "-s", "CAPA\\r\\n", "-e", "+OK"}, common...)
	}
	return nil
}

var perfTime = regexp.MustCompile(`time=([0-9.]+)s`)

func (t pluginsTool) run(c check, s *site, workers int, warmup, window time.Duration) result {
	argv := t.argv(c, s.addrs[c.name])
	o := load(workers, warmup, window, func() (sample, error) {
		cmd := exec.Command(argv[0], argv[1:]...)
		out, err := cmd.Output()
		if err != nil {
			return sample{}, fmt.Errorf("%v: %.200s", err, out)
		}
		m := perfTime.FindSubmatch(out)
		if m == nil {
			return sample{}, fmt.Errorf("no time in %q", out)
		}
		secs, _ := strconv.ParseFloat(string(m[1]), 64)
		ps := cmd.ProcessState
		return sample{reported: time.Duration(secs * float64(time.Second)),
			cpu: procstat.ExitedCPU(ps), rssMiB: procstat.ExitedPeakRSSMiB(ps)}, nil
	}, nil, nil)
	return finish(t, c, o, o.childCPU, o.childRSS, workers)
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}
