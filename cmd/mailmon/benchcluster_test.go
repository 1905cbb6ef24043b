package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/testutil/realpg"
)

// TestBenchCluster measures, with several `mailmon serve` processes on the
// harness's PostgreSQL, the longest a monitor goes untested when a node is
// killed (SIGKILL), a node joins, the monitors are rebalanced (a node's
// monitors deleted: the others hand it some of theirs), and a node stops
// (SIGTERM); with the quiet cluster's worst gap for reference. It prints
// a table and, with MAILMON_BENCH_OUT, writes it with the machine named.
// Skipped unless MAILMON_BENCH_CLUSTER=1 (make bench-cluster).
func TestBenchCluster(t *testing.T) {
	if os.Getenv("MAILMON_BENCH_CLUSTER") != "1" {
		t.Skip("a benchmark: MAILMON_BENCH_CLUSTER=1 (make bench-cluster)")
	}
	monitors := envInt("MAILMON_BENCH_MONITORS", 300)
	every, lease := envDuration("MAILMON_BENCH_INTERVAL", 5*time.Second), envDuration("MAILMON_BENCH_LEASE", 15*time.Second)
	db := realpg.NewDB(t)
	f := startFarm(t, monitors)
	_, hookURL := startHook(t)
	applyFarm(t, db, f, hookURL, every, "")
	token := apiToken(t, db)
	c := pgConn(t, db)
	nodes := map[string]*daemon{}
	start := func(name string) {
		nodes[name] = startNode(t, db, clusterEnv, "--node", name, "--lease", lease.String(), "--min-interval", every.String())
	}
	// shared waits until the live nodes hold want leases each (a node
	// named with 0: none) and returns how long that took.
	shared := func(what string, since time.Time, want map[string]int) time.Duration {
		waitFor(t, what, 3*lease+time.Minute, func() bool {
			l := leasesByNode(t, c)
			for n, k := range want {
				if l[n] != k {
					return false
				}
			}
			return len(l) == len(want)
		})
		return time.Since(since)
	}
	type row struct {
		event            string
		moved            int
		settled, gap     time.Duration
		untested, checks int
	}
	var rows []row
	// measure records an event's worst gap: from at, over two intervals
	// after the leases settled.
	measure := func(event string, moved int, at time.Time, settled time.Duration) {
		time.Sleep(2 * every)
		rs := resultsByMonitor(t, c)
		gap, who := worstGap(rs, at, time.Now())
		over := 0 // monitors untested longer than an interval and a half
		for _, tests := range rs {
			if g, _ := worstGap(map[string][]testRow{"": tests}, at, time.Now()); g > every*3/2 {
				over++
			}
		}
		rows = append(rows, row{event, moved, settled, gap, over, len(rs)})
		t.Logf("%s: %d leases moved, settled in %v, worst gap %v (%s), %d of %d monitors over 1.5 intervals", event, moved,
			settled.Round(100*time.Millisecond), gap.Round(10*time.Millisecond), who, over, len(rs))
	}

	for _, n := range []string{"n1", "n2", "n3"} {
		start(n)
	}
	third := monitors / 3
	shared("the monitors shared by three nodes", time.Now(), map[string]int{"n1": third, "n2": third, "n3": monitors - 2*third})
	time.Sleep(3 * every) // every monitor in its place in its interval
	quiet := time.Now()
	time.Sleep(3 * every)
	measure("none (three nodes, quiet)", 0, quiet, 0)

	at := time.Now()
	nodes["n3"].kill()
	half := monitors / 2
	measure("kill -9 of a node", monitors-2*third, at, shared("the killed node's monitors taken", at, map[string]int{"n1": monitors - half, "n2": half}))
	time.Sleep(2 * every) // back in their places

	at = time.Now()
	start("n4")
	measure("a node joins", third, at, shared("the monitors shared with the new node", at, map[string]int{"n1": third, "n2": third, "n4": monitors - 2*third}))

	// Rebalance: a third of n1's monitors deleted; the others hand it
	// some of theirs.
	gone := third / 3 * 2
	ids := []int64{}
	rs, err := c.Query(context.Background(), `SELECT l.monitor_id FROM monitor_leases l JOIN nodes n ON n.id = l.node_id WHERE n.name = 'n1' ORDER BY 1 LIMIT $1`, gone)
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var id int64
		rs.Scan(&id)
		ids = append(ids, id)
	}
	rs.Close()
	at = time.Now()
	for _, id := range ids {
		if code, body := nodes["n1"].send(t, "DELETE", fmt.Sprintf("/api/v1/monitors/%d", id), token, nil); code/100 != 2 {
			t.Fatalf("deleting monitor %d: %d %s", id, code, body)
		}
	}
	left := monitors - gone
	each := left / 3
	want := map[string]int{"n1": each, "n2": each, "n4": each}
	for _, n := range []string{"n1", "n2", "n4"}[:left%3] {
		want[n]++
	}
	measure("rebalance (monitors deleted)", 2*(third-want["n2"]), at, shared("the monitors shared again", at, want))

	at = time.Now()
	moved := want["n2"]
	if err := nodes["n2"].stop(); err != nil {
		t.Errorf("n2 stopped with %v", err)
	}
	measure("SIGTERM of a node", moved, at, shared("the stopped node's monitors handed over", at, map[string]int{"n1": left - left/2, "n4": left / 2}))

	var out strings.Builder
	var pgVersion string
	c.QueryRow(context.Background(), `SHOW server_version`).Scan(&pgVersion)
	host, _ := os.Hostname()
	fmt.Fprintf(&out, "Worst per-monitor test gap with several `mailmon serve` processes on one PostgreSQL %s, %d tcp monitors at a %v interval, lease %v\n\n",
		pgVersion, monitors, every, lease)
	fmt.Fprintf(&out, "Machine: %s, %s, %d cores shared by the nodes, PostgreSQL and the targets (load average at the end: %s), %s\n\n",
		host, cpuModel(), numCPU(), loadAverage(), runtime.Version())
	out.WriteString("| event | leases moved | settled after | worst gap | worst gap ÷ interval | monitors untested over 1.5 intervals |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&out, "| %s | %d | %.1f s | %.2f s | %.2f | %d of %d |\n", r.event, r.moved, r.settled.Seconds(), r.gap.Seconds(),
			r.gap.Seconds()/every.Seconds(), r.untested, r.checks)
	}
	t.Log("\n" + out.String())
	if p := os.Getenv("MAILMON_BENCH_OUT"); p != "" {
		if err := os.WriteFile(p, []byte(out.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for l := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
