// Command soak runs "mailmon serve" with many monitors against the target
// farm for a long while, with some targets broken on purpose, and judges
// its alerts: none may come for a healthy target (false alerts) and every
// broken one must alert (missed alerts). It also follows the daemon's
// scheduler lag, CPU, memory, descriptors and goroutines over the run, and
// writes a Markdown report with an SVG chart under bench/results.
// "make soak" runs it.
//
// Monitor i tests a black hole (accepts, never answers) when i%100 < 5, a
// flapping target (answers, then turns into a black hole, then answers
// again, every -flap) when i%100 == 5, and a healthy responder otherwise.
// Each device of 100 monitors has its own webhook alert, so one action's
// rate limit does not make the judgement a matter of waiting.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mailmon/mailmon/internal/bench/farm"
	"github.com/mailmon/mailmon/internal/bench/harness"
	"github.com/mailmon/mailmon/internal/bench/procstat"
	"github.com/mailmon/mailmon/internal/demo"
)

type kind int

const (
	healthy kind = iota
	blackHole
	flapping
)

func kindOf(i int) kind {
	switch m := i % 100; {
	case m < 5:
		return blackHole
	case m == 5:
		return flapping
	}
	return healthy
}

func (k kind) String() string { return [...]string{"healthy", "black-holed", "flapping"}[k] }

// point is one sample of the daemon over time.
type point struct {
	t           time.Duration
	cores, rss  float64
	fds, gorout int
	lagP99      float64
}

func main() {
	bin := flag.String("mailmon", "bin/mailmon", "the mailmon binary")
	n := flag.Int("monitors", 10000, "monitors")
	dur := flag.Duration("duration", 30*time.Minute, "how long the soak runs")
	interval := flag.Duration("interval", time.Minute, "the monitors' interval while Up")
	flap := flag.Duration("flap", 5*time.Minute, "a flapping target's half period")
	every := flag.Duration("sample", 10*time.Second, "how often the daemon is sampled")
	out := flag.String("out", "bench/results", "folder for the report and chart")
	flag.Parse()

	work, err := os.MkdirTemp("", "mailmon-soak-")
	must(err)
	defer os.RemoveAll(work)
	tlsCfg, caFile, err := demo.SelfSigned(work)
	must(err)

	// The farm: healthy responders (plain and STARTTLS), black holes and
	// flapping targets.
	servers := map[kind][]*farm.Server{}
	for i := 0; i < 4; i++ {
		mode := farm.NoTLS
		if i%2 == 1 {
			mode = farm.StartTLS
		}
		for _, k := range []kind{healthy, blackHole, flapping} {
			s, err := farm.Start(farm.SMTP, mode, tlsCfg)
			must(err)
			defer s.Close()
			if k == blackHole {
				s.SetBehaviour(farm.BlackHole)
			}
			servers[k] = append(servers[k], s)
		}
	}

	rx := newReceiver()
	rxAddr := rx.start()

	var y strings.Builder
	y.WriteString("alerts:\n")
	for d := 0; d*100 < *n; d++ {
		fmt.Fprintf(&y, "  - {name: hook%d, webhook: {url: %q, format: generic}}\n", d, "http://"+rxAddr+"/alert")
	}
	y.WriteString("devices:\n")
	kinds := map[string]kind{}
	for i := 0; i < *n; i++ {
		if i%100 == 0 {
			fmt.Fprintf(&y, "  - name: device%d\n    address: 127.0.0.1\n    monitors:\n", i/100)
		}
		k := kindOf(i)
		name := fmt.Sprintf("smtp%d", i)
		kinds[name] = k
		s := servers[k][i%len(servers[k])]
		fmt.Fprintf(&y, "      - {name: %s, type: smtp, port: %d, ehlo: soak, timing: {max_duration: 10s, up_every: %s, down_every: 20s}, notify: {alerts: [hook%d]}",
			name, s.Port(), *interval, i/100)
		if s.TLSMode == farm.StartTLS {
			fmt.Fprintf(&y, ", tls: starttls, ca: %q, servername: localhost", caFile)
		}
		y.WriteString("}\n")
	}
	cfg := filepath.Join(work, "soak.yaml")
	must(os.WriteFile(cfg, []byte(y.String()), 0o600))
	db := filepath.Join(work, "mailmon.db")
	tok, err := harness.Prepare(*bin, db, cfg)
	must(err)
	// The shortest interval of the monitors (20 s while failing): serve's
	// minimum must allow it.
	d, err := harness.Serve(*bin, db, tok, "--min-interval", min(*interval, 20*time.Second).String())
	must(err)
	pid := d.Cmd.Process.Pid
	fmt.Printf("soak: %d monitors (%d black-holed, %d flapping) for %v, daemon pid %d at %s\n",
		*n, count(kinds, blackHole), count(kinds, flapping), *dur, pid, d.URL)

	// Flap, and sample.
	start := time.Now()
	stopFlap := make(chan struct{})
	go func() {
		t := time.NewTicker(*flap)
		defer t.Stop()
		hole := false
		for {
			select {
			case <-stopFlap:
				return
			case <-t.C:
				hole = !hole
				for _, s := range servers[flapping] {
					if hole {
						s.SetBehaviour(farm.BlackHole)
					} else {
						s.SetBehaviour(farm.Answer)
					}
				}
			}
		}
	}()
	var points []point
	cpuPrev, tPrev := procstat.CPUSeconds(pid), time.Now()
	for time.Since(start) < *dur {
		time.Sleep(*every)
		st, err := d.Status()
		if err != nil {
			fmt.Fprintln(os.Stderr, "soak: status:", err)
			continue
		}
		cpu, now := procstat.CPUSeconds(pid), time.Now()
		p := point{t: now.Sub(start), cores: (cpu - cpuPrev) / now.Sub(tPrev).Seconds(), rss: procstat.RSSMiB(pid),
			fds: procstat.FDs(pid), gorout: st.Goroutines, lagP99: st.LagP99}
		cpuPrev, tPrev = cpu, now
		points = append(points, p)
		fmt.Printf("%6.0fs  %.3f cores  %5.1f MiB  %4d fds  %5d goroutines  lag p99 %.1f ms  alerts %d\n",
			p.t.Seconds(), p.cores, p.rss, p.fds, p.gorout, p.lagP99, rx.total())
	}
	close(stopFlap)
	final, _ := d.Status()
	d.Stop()
	rx.stop()

	md, svg := report(*n, *dur, *interval, *flap, kinds, rx, points, final)
	fmt.Print("\n" + md)
	must(os.MkdirAll(*out, 0o755))
	base := filepath.Join(*out, "soak-"+time.Now().UTC().Format("2006-01-02"))
	must(os.WriteFile(base+".svg", []byte(svg), 0o644))
	must(os.WriteFile(base+".md", []byte(strings.ReplaceAll(md, "CHART", filepath.Base(base)+".svg")), 0o644))
	fmt.Println("written to", base+".md")
}

func count(kinds map[string]kind, k kind) int {
	c := 0
	for _, v := range kinds {
		if v == k {
			c++
		}
	}
	return c
}

// receiver counts the generic webhook's events per monitor.
type receiver struct {
	mu     sync.Mutex
	events map[string]map[string]int // monitor → event → count
	srv    *http.Server
}

func newReceiver() *receiver { return &receiver{events: map[string]map[string]int{}} }

func (r *receiver) start() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	r.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var p struct{ Event, Monitor string }
		if err := json.NewDecoder(io.LimitReader(req.Body, 1<<16)).Decode(&p); err != nil {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		if r.events[p.Monitor] == nil {
			r.events[p.Monitor] = map[string]int{}
		}
		r.events[p.Monitor][p.Event]++
		r.mu.Unlock()
	})}
	go r.srv.Serve(ln)
	return ln.Addr().String()
}

func (r *receiver) stop() { r.srv.Close() }

func (r *receiver) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := 0
	for _, ev := range r.events {
		for _, c := range ev {
			t += c
		}
	}
	return t
}

func report(n int, dur, interval, flap time.Duration, kinds map[string]kind, rx *receiver, pts []point, final harness.Status) (string, string) {
	rx.mu.Lock()
	defer rx.mu.Unlock()
	var falseAlerts, missed []string
	perKind := map[kind][2]int{} // alerts, recoveries
	for name, k := range kinds {
		ev := rx.events[name]
		c := perKind[k]
		c[0] += ev["alert"]
		c[1] += ev["recovery"]
		perKind[k] = c
		switch {
		case k == healthy && len(ev) > 0:
			falseAlerts = append(falseAlerts, name)
		case k == blackHole && ev["alert"] == 0:
			missed = append(missed, name)
		case k == flapping && ev["alert"] == 0 && dur > flap+3*time.Minute:
			missed = append(missed, name) // its first black-hole phase was long enough to confirm
		}
	}
	sort.Strings(falseAlerts)
	sort.Strings(missed)

	var b strings.Builder
	fmt.Fprintf(&b, "# mailmon soak, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Machine: %s.\n\n", procstat.Machine())
	fmt.Fprintf(&b, "%d SMTP monitors (half STARTTLS) at a %v interval (20 s while failing, 10 s maximum test duration, "+
		"3 failures before an alert) for %v against the loopback farm: %d healthy, %d black-holed (accept and never answer), "+
		"%d flapping (a black hole every other %v). One webhook action per 100 monitors.\n\n",
		n, interval, dur, count(kinds, healthy), count(kinds, blackHole), count(kinds, flapping), flap)
	b.WriteString("| | result |\n|---|---|\n")
	fmt.Fprintf(&b, "| false alerts (healthy targets) | **%d** %s |\n", len(falseAlerts), names(falseAlerts))
	fmt.Fprintf(&b, "| missed alerts (broken targets) | **%d** %s |\n", len(missed), names(missed))
	for _, k := range []kind{healthy, blackHole, flapping} {
		c := perKind[k]
		fmt.Fprintf(&b, "| %s: alerts / recoveries received | %d / %d |\n", k, c[0], c[1])
	}
	fmt.Fprintf(&b, "| tests started | %d |\n", final.TestsStarted)
	fmt.Fprintf(&b, "| scheduler lag p50 / p99 / max (recent tests, at the end) | %.1f / %.1f / %.1f ms |\n", final.LagP50, final.LagP99, final.LagMax)
	if len(pts) > 1 {
		var cores, lagMax float64
		var rssMax float64
		for _, p := range pts[1:] { // the first sample holds the start-up
			cores += p.cores
			rssMax = max(rssMax, p.rss)
		}
		for _, p := range pts { // start-up included: every first test falls in the first sample
			lagMax = max(lagMax, p.lagP99)
		}
		cores /= float64(len(pts) - 1)
		first, last := pts[0], pts[len(pts)-1]
		fmt.Fprintf(&b, "| worst lag p99 seen in a sample (start-up included) | %.1f ms |\n", lagMax)
		fmt.Fprintf(&b, "| CPU (cores, average after start-up) | %.3f |\n", cores)
		fmt.Fprintf(&b, "| RSS first / peak / last | %.0f / %.0f / %.0f MiB |\n", first.rss, rssMax, last.rss)
		// Tests in flight come and go (a black hole holds its connection
		// for 10 s), so compare the troughs of the first and last minutes.
		fs, fe := lowest(pts, true, func(p point) int { return p.fds }), lowest(pts, false, func(p point) int { return p.fds })
		gs, ge := lowest(pts, true, func(p point) int { return p.gorout }), lowest(pts, false, func(p point) int { return p.gorout })
		fmt.Fprintf(&b, "| open descriptors, lowest in the first / last 2 minutes | %d / %d |\n", fs, fe)
		fmt.Fprintf(&b, "| goroutines, lowest in the first / last 2 minutes | %d / %d |\n", gs, ge)
	}
	b.WriteString("\n![CPU, RSS, descriptors and goroutines over the soak](CHART)\n\n")
	b.WriteString("Descriptors and goroutines include the tests in flight at the moment of a sample (a black-holed test holds " +
		"its connection until its 10 s deadline), so the table compares the lowest values of the first and last two minutes.\n")
	return b.String(), chart(pts)
}

// lowest is the smallest value in the first (or last) two minutes.
func lowest(pts []point, first bool, v func(point) int) int {
	end := pts[len(pts)-1].t
	m := -1
	for _, p := range pts {
		in := p.t <= 2*time.Minute
		if !first {
			in = p.t >= end-2*time.Minute
		}
		if in && (m < 0 || v(p) < m) {
			m = v(p)
		}
	}
	return m
}

func names(ns []string) string {
	if len(ns) == 0 {
		return ""
	}
	if len(ns) > 10 {
		return "(" + strings.Join(ns[:10], ", ") + ", …)"
	}
	return "(" + strings.Join(ns, ", ") + ")"
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}
