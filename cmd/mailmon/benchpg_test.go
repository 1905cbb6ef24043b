package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/testutil/realpg"
)

// TestBenchPGNodes is the benchmark of several nodes on one PostgreSQL
// ("make bench-pg"; skipped unless MAILMON_BENCH_PG=1): MAILMON_BENCH_MONITORS
// tcp monitors (default 2000) at a 2 s interval against loopback targets,
// more than one node can test, run by 1, 2 and 3 nodes in turn. For each:
// tests per second sustained over MAILMON_BENCH_WINDOW (default 20 s, after
// the monitors are shared and a warm-up), PostgreSQL's CPU (its processes'
// user+system time), and what the database wrote per test (WAL bytes, rows).
func TestBenchPGNodes(t *testing.T) {
	if os.Getenv("MAILMON_BENCH_PG") != "1" {
		t.Skip("a benchmark: MAILMON_BENCH_PG=1 (make bench-pg)")
	}
	monitors := envInt("MAILMON_BENCH_MONITORS", 2000)
	window := envDuration("MAILMON_BENCH_WINDOW", 20*time.Second)
	const every = 2 * time.Second
	f := startFarm(t, 20)
	var b strings.Builder
	b.WriteString("devices:\n  - name: farm\n    address: 127.0.0.1\n    monitors:\n")
	for i := range monitors {
		fmt.Fprintf(&b, "      - {name: m%05d, type: tcp, port: %d, expect: \"220\", timing: {max_duration: 1s, up_every: %s}}\n", i, f.ports[i%len(f.ports)], every)
	}
	yaml := filepath.Join(t.TempDir(), "bench.yaml")
	os.WriteFile(yaml, []byte(b.String()), 0o600)

	type row struct {
		nodes              int
		tps                float64
		pgCores            float64
		walPerTest, rowsPT float64
		leasesMS           time.Duration
	}
	var rows []row
	for nodes := 1; nodes <= 3; nodes++ {
		db := realpg.NewDB(t)
		if code, _, errOut, _ := mailmon(t, clusterEnv, "apply", "--db", db, "-f", yaml); code != 0 {
			t.Fatalf("apply: %s", errOut)
		}
		c := pgConn(t, db)
		start := time.Now()
		var ds []*daemon
		for i := range nodes {
			ds = append(ds, startNode(t, db, clusterEnv, "--node", fmt.Sprintf("n%d", i+1), "--min-interval", every.String()))
		}
		waitFor(t, "the monitors shared evenly", 3*time.Minute, func() bool {
			l := leasesByNode(t, c)
			total := 0
			for _, n := range l {
				total += n
				if n < monitors/nodes || n > (monitors+nodes-1)/nodes {
					return false
				}
			}
			return total == monitors && len(l) == nodes
		})
		shared := time.Since(start)
		time.Sleep(2 * every) // warm-up
		ctx := context.Background()
		snap := func() (tests int64, wal int64, rowsW int64, cpu time.Duration) {
			c.QueryRow(ctx, `SELECT count(*) FROM results`).Scan(&tests)
			c.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint`).Scan(&wal)
			c.QueryRow(ctx, `SELECT tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = current_database()`).Scan(&rowsW)
			return tests, wal, rowsW, pgCPU(realpg.Start(t).PID())
		}
		t0, w0, r0, c0 := snap()
		began := time.Now()
		time.Sleep(window)
		t1, w1, r1, c1 := snap()
		el := time.Since(began)
		tests := float64(t1 - t0)
		r := row{nodes: nodes, tps: tests / el.Seconds(), pgCores: (c1 - c0).Seconds() / el.Seconds(),
			walPerTest: float64(w1-w0) / tests, rowsPT: float64(r1-r0) / tests, leasesMS: shared}
		rows = append(rows, r)
		t.Logf("%d node(s): %.0f tests/s, PostgreSQL %.2f cores, %.0f WAL bytes and %.1f rows per test; shared in %v",
			nodes, r.tps, r.pgCores, r.walPerTest, r.rowsPT, shared.Round(time.Millisecond))
		for _, d := range ds {
			d.stop()
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "%d tcp monitors at a %v interval (demand %.0f tests/s), %v window, %d cores shared by the nodes, PostgreSQL and the targets\n\n",
		monitors, every, float64(monitors)/every.Seconds(), window, numCPU())
	out.WriteString("| nodes | tests/s sustained | PostgreSQL CPU (cores) | WAL bytes per test | rows written per test |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&out, "| %d | %.0f | %.2f | %.0f | %.1f |\n", r.nodes, r.tps, r.pgCores, r.walPerTest, r.rowsPT)
	}
	last := rows[0]
	perK := 1000.0 / 60 // tests/s of 1,000 monitors at the default 60 s interval
	fmt.Fprintf(&out, "\nPer 1,000 monitors at the default 60 s interval (%.1f tests/s): %.1f KiB/s of WAL, %.0f rows/s (from the 1-node figures)\n",
		perK, perK*last.walPerTest/1024, perK*last.rowsPT)
	t.Log("\n" + out.String())
	if p := os.Getenv("MAILMON_BENCH_OUT"); p != "" {
		os.WriteFile(p, []byte(out.String()), 0o644)
	}
}

func envDuration(k string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}

// pgCPU is the CPU time of the postmaster pid and its processes: its own,
// its children's that ended (cutime, cstime), and its live children's.
func pgCPU(pid int) time.Duration {
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	fields := func(p string) []string {
		b, err := os.ReadFile("/proc/" + p + "/stat")
		if err != nil {
			return nil
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			return nil
		}
		return strings.Fields(s[i+1:]) // state ppid … ; utime is [11]
	}
	num := func(f []string, i int) int64 {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		return v
	}
	var ticks int64
	if f := fields(strconv.Itoa(pid)); len(f) > 14 {
		ticks += num(f, 11) + num(f, 12) + num(f, 13) + num(f, 14)
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if f := fields(e.Name()); len(f) > 14 && f[1] == strconv.Itoa(pid) {
			ticks += num(f, 11) + num(f, 12)
		}
	}
	return time.Duration(ticks) * tick
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return max(strings.Count(string(b), "processor\t:"), 1)
}

// TestBenchPGWriteLoad measures PostgreSQL's write load of 1,000 monitors
// at the default 60 s interval on three nodes (default 15 s lease), over
// MAILMON_BENCH_WINDOW after a minute's warm-up: WAL bytes and rows written
// per second, heartbeats and leases included (a window of a minute or more
// for figures). Skipped unless MAILMON_BENCH_PG=1.
func TestBenchPGWriteLoad(t *testing.T) {
	if os.Getenv("MAILMON_BENCH_PG") != "1" {
		t.Skip("a benchmark: MAILMON_BENCH_PG=1 (make bench-pg)")
	}
	window := 60 * time.Second
	if v, err := time.ParseDuration(os.Getenv("MAILMON_BENCH_WINDOW")); err == nil {
		window = v // below a minute only to see that it runs (make bench-smoke)
	}
	const monitors = 1000
	f := startFarm(t, 20)
	var b strings.Builder
	b.WriteString("devices:\n  - name: farm\n    address: 127.0.0.1\n    monitors:\n")
	for i := range monitors {
		fmt.Fprintf(&b, "      - {name: m%05d, type: tcp, port: %d, expect: \"220\"}\n", i, f.ports[i%len(f.ports)])
	}
	yaml := filepath.Join(t.TempDir(), "load.yaml")
	os.WriteFile(yaml, []byte(b.String()), 0o600)
	db := realpg.NewDB(t)
	if code, _, errOut, _ := mailmon(t, clusterEnv, "apply", "--db", db, "-f", yaml); code != 0 {
		t.Fatalf("apply: %s", errOut)
	}
	c := pgConn(t, db)
	for i := range 3 {
		startNode(t, db, clusterEnv, "--node", fmt.Sprintf("n%d", i+1))
	}
	time.Sleep(min(window, time.Minute)) // every monitor tested once, in its place
	ctx := context.Background()
	snap := func() (tests, wal, rowsW int64) {
		c.QueryRow(ctx, `SELECT count(*) FROM results`).Scan(&tests)
		c.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint`).Scan(&wal)
		c.QueryRow(ctx, `SELECT tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = current_database()`).Scan(&rowsW)
		return
	}
	t0, w0, r0 := snap()
	began := time.Now()
	time.Sleep(window)
	t1, w1, r1 := snap()
	el := time.Since(began).Seconds()
	line := fmt.Sprintf("1,000 monitors at 60 s on 3 nodes (lease 15 s), %v window: %.1f tests/s, %.1f KiB/s of WAL, %.1f rows/s written\n",
		window, float64(t1-t0)/el, float64(w1-w0)/el/1024, float64(r1-r0)/el)
	t.Log(line)
	if p := os.Getenv("MAILMON_BENCH_OUT"); p != "" {
		old, _ := os.ReadFile(p)
		os.WriteFile(p, append(old, []byte("\n"+line)...), 0o644)
	}
}
