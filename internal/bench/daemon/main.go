// Command daemon benchmarks "mailmon serve" at scale: N smtp monitors (half
// with STARTTLS) at a 60 s interval against loopback responders, for a
// while each, measuring the daemon's CPU, peak RSS, scheduler lag and
// stored bytes per result. "make bench-daemon" runs it.
//
// With a short interval it finds the daemon's saturation instead, e.g.
// "-monitors 6000 -interval 1s -starttls 0 -duration 1m": tests per second
// and CPU per test once the scheduler can no longer keep up.
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite"

	"github.com/mailmon/mailmon/internal/bench/farm"
	"github.com/mailmon/mailmon/internal/bench/harness"
	"github.com/mailmon/mailmon/internal/bench/procstat"
	"github.com/mailmon/mailmon/internal/demo"
)

type row struct {
	monitors       int
	cores, rssMiB  float64
	lagP50, lagP99 float64
	tests          int64
	testsPerSec    float64
	bytesPerResult float64
}

func main() {
	bin := flag.String("mailmon", "bin/mailmon", "the mailmon binary")
	sizes := flag.String("monitors", "1000,5000,20000", "monitor counts to run")
	dur := flag.Duration("duration", 3*time.Minute, "how long each size runs")
	interval := flag.Duration("interval", time.Minute, "the monitors' interval")
	starttls := flag.Int("starttls", 50, "percentage of the monitors that use STARTTLS")
	out := flag.String("out", "bench/results", "folder for the Markdown results")
	flag.Parse()
	if *starttls < 0 || *starttls > 100 {
		check(fmt.Errorf("-starttls %d: a percentage, 0 to 100", *starttls))
	}

	work, err := os.MkdirTemp("", "mailmon-bench-")
	check(err)
	defer os.RemoveAll(work)
	tlsCfg, caFile, err := demo.SelfSigned(work)
	check(err)
	var plain, secure []*farm.Server
	for i := 0; i < 2; i++ {
		p, err := farm.Start(farm.SMTP, farm.NoTLS, nil)
		check(err)
		s, err := farm.Start(farm.SMTP, farm.StartTLS, tlsCfg)
		check(err)
		plain, secure = append(plain, p), append(secure, s)
	}

	var rows []row
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		check(err)
		r := run(*bin, work, caFile, n, *dur, *interval, *starttls, plain, secure)
		fmt.Printf("%d monitors: %.2f cores, %.0f MiB peak RSS, lag p50 %.1f ms p99 %.1f ms, %d tests (%.0f/s, %.3f CPU ms each), %.1f bytes/result\n",
			r.monitors, r.cores, r.rssMiB, r.lagP50, r.lagP99, r.tests, r.testsPerSec, r.cpuPerTest(), r.bytesPerResult)
		rows = append(rows, r)
	}
	table := report(rows, *dur, *interval, *starttls)
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

func run(bin, work, caFile string, n int, dur, interval time.Duration, starttls int, plain, secure []*farm.Server) row {
	dir := filepath.Join(work, strconv.Itoa(n))
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
		// Within each hundred, alternate while both kinds are left.
		if tls := i%100*starttls/100 != (i%100+1)*starttls/100; !tls {
			fmt.Fprintf(&y, "      - {name: smtp%d, type: smtp, port: %d, ehlo: bench, timing: {max_duration: %s, up_every: %s}}\n",
				i, plain[i/2%len(plain)].Port(), maxDur, interval)
		} else {
			fmt.Fprintf(&y, "      - {name: smtp%d, type: smtp, port: %d, tls: starttls, ca: %q, servername: localhost, ehlo: bench, timing: {max_duration: %s, up_every: %s}}\n",
				i, secure[i/2%len(secure)].Port(), caFile, maxDur, interval)
		}
	}
	cfg := filepath.Join(dir, "bench.yaml")
	check(os.WriteFile(cfg, []byte(y.String()), 0o600))
	tok, err := harness.Prepare(bin, db, cfg)
	check(err)
	// A short interval measures saturation: serve's minimum must allow it.
	d, err := harness.Serve(bin, db, tok, "--min-interval", interval.String())
	check(err)

	st0, err := d.Status()
	check(err)
	start := time.Now()
	cpu0 := procstat.CPUSeconds(d.Cmd.Process.Pid)
	var rss float64
	for time.Since(start) < dur {
		time.Sleep(2 * time.Second)
		rss = max(rss, procstat.RSSMiB(d.Cmd.Process.Pid))
	}
	cpu := procstat.CPUSeconds(d.Cmd.Process.Pid) - cpu0
	wall := time.Since(start).Seconds()
	st, err := d.Status()
	check(err)
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
	r := row{monitors: n, cores: cpu / wall, rssMiB: rss, lagP50: st.LagP50, lagP99: st.LagP99, tests: st.TestsStarted,
		testsPerSec: float64(st.TestsStarted-st0.TestsStarted) / wall} // in the window the CPU is measured over
	if results > 0 {
		r.bytesPerResult = float64(resultBytes) / float64(results)
	}
	return r
}

func report(rows []row, dur, interval time.Duration, starttls int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# mailmon serve at scale, %s\n\n", time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, "Machine: %s. Each size ran %v; monitors test an SMTP responder on loopback every %v, %d%% of them with STARTTLS.\n\n",
		procstat.Machine(), dur, interval, starttls)
	b.WriteString("| monitors | CPU (cores, avg) | peak RSS (MiB) | lag p50 (ms) | lag p99 (ms) | tests | tests/s | CPU ms/test | bytes/result |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %d | %.3f | %.0f | %.1f | %.1f | %d | %.0f | %.3f | %.1f |\n",
			r.monitors, r.cores, r.rssMiB, r.lagP50, r.lagP99, r.tests, r.testsPerSec, r.cpuPerTest(), r.bytesPerResult)
	}
	b.WriteString("\nGoal at 20,000: ≤ 1 core, ≤ 512 MiB, lag p99 < 1 s, ≤ 100 bytes per result.\n")
	return b.String()
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
