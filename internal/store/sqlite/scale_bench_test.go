package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/schedule"
	"github.com/mailmon/mailmon/internal/schedule/phase"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/storetest"
)

// The write path at the size: 100,000 monitors, each with a
// status whose last result is a STARTTLS test's (storetest.SampleResult:
// transcript and certificate included) and a few results. BenchmarkRecordTestScale
// stores tests of monitors in the order the scheduler tests them (by
// their offsets: phase.Slot), 32 callers at once (the group writer
// commits what they wait with), and reports per result:
// the CPU time, the pages written to the WAL (frames) and the WAL bytes.
const scaleMonitors = 100_000

// scaleN is the number of monitors the scale benchmarks build:
// scaleMonitors, or 2,000 with -short (make bench-smoke: the code runs in
// CI without the ~45 s its 100,000-monitor templates take to build; the
// figures then mean nothing).
func scaleN() int {
	if testing.Short() {
		return 2_000
	}
	return scaleMonitors
}

type template struct {
	sync.Once
	path string
	err  error
}

// templateKey names a template: of monitors never tested (pending: no
// status, no result) or tested before; their last results STARTTLS
// tests' or, lean, the daemon benchmark's lean mix (leanKind); byID:
// monitor_status ordered by monitor id, as before migration 00018 (each
// status at slot = id, which tests of interval 0 keep), rather than by
// the order monitors are tested; history: each monitor's results already
// stored, a minute apart, instead of three (0: three), stored as the
// daemon stores them, a minute's results of all monitors after another,
// so that the leaves are as full as a user's database's.
// hours: each monitor's hourly roll-ups of the whole day before t0's
// (hours 24: a day to roll up, as the daily roll-up's).
type templateKey struct {
	untested, lean, byID bool
	history, hours       int
}

var (
	templatesMu sync.Mutex
	templates   = map[templateKey]*template{}
)

// leanKind is the kind of monitor id's results in the lean mix of the
// daemon benchmark (internal/bench/daemon): 10% STARTTLS, 45% banners,
// 45% tcp; without lean, every monitor's are STARTTLS tests'.
func leanKind(id int, lean bool) string {
	switch {
	case !lean || id%10 == 0:
		return "starttls"
	case id%2 == 1:
		return "banner"
	}
	return "tcp"
}

// scaleTemplate is the path of a database of scaleMonitors monitors,
// built once per process (directly in SQL: a minute of PutMonitor and
// RecordTest calls otherwise), that each run copies; untested: none has
// a status or a result yet.
func scaleTemplate(b *testing.B, key templateKey) string {
	return cachedTemplate(b, key, "mailmon-scale-", func(path string) error { return buildScale(path, key) })
}

// cachedTemplate is the path of key's template, built once per process
// by build into a new file under a temporary folder named for prefix.
func cachedTemplate(b *testing.B, key templateKey, prefix string, build func(path string) error) string {
	templatesMu.Lock()
	t := templates[key]
	if t == nil {
		t = new(template)
		templates[key] = t
	}
	templatesMu.Unlock()
	t.Do(func() {
		dir, err := os.MkdirTemp("", prefix)
		if err != nil {
			t.err = err
			return
		}
		t.path = filepath.Join(dir, "scale.db")
		t.err = build(t.path)
	})
	if t.err != nil {
		b.Fatal(t.err)
	}
	return t.path
}

func buildScale(path string, key templateKey) error {
	pending := key.untested
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		return err
	}
	defer s.Close()
	if key.history > 0 { // the build's own: its tree in memory
		if _, err := s.wdb.ExecContext(ctx, `PRAGMA cache_size=-2000000`); err != nil {
			return err
		}
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	prep := func(q string) *sql.Stmt {
		st, e := tx.PrepareContext(ctx, q)
		if e != nil && err == nil {
			err = e
		}
		return st
	}
	dev := prep(`INSERT INTO devices(id, name, address, created_ms, updated_ms) VALUES(?,?,?,0,0)`)
	mon := prep(`INSERT INTO monitors(id, device_id, name, type, enabled, spec, secrets, network_target, created_ms, updated_ms, shown_rank) VALUES(?,?,?,'smtp',1,?,'{}',0,0,0,?)`)
	st := prep(`INSERT INTO monitor_status(monitor_id, slot, state, status, last_result, last_ms, version, recent) VALUES(?,?,'up',?,?,?,3,?)`)
	res := prep(`INSERT INTO results(monitor_id, t_ms, status, rtt_us, node, location) VALUES(?,?,0,?,'','')`)
	if err != nil {
		return err
	}
	t0 := time.Now().Add(-3 * time.Minute).Truncate(time.Millisecond)
	status, _ := appendStatus(state.Status{State: state.Up, Since: t0, History: 7, Results: 3})
	for d := 1; d <= scaleN()/100; d++ {
		if _, err := dev.ExecContext(ctx, d, fmt.Sprint("device", d), fmt.Sprintf("mx%d.example.net", d)); err != nil {
			return err
		}
	}
	recent := make([]byte, 3*10)
	rank := store.Rank(state.Up)
	if pending {
		rank = store.Rank(state.Pending)
	}
	for id := 1; id <= scaleN(); id++ {
		spec := fmt.Sprintf(`{"host":"mx%d.example.net","port":25,"tls":"starttls","ca":"/etc/mailmon/ca.pem","interval":"60s","timeout":"10s"}`, id%1000)
		if _, err := mon.ExecContext(ctx, id, (id-1)/100+1, fmt.Sprint("smtp", id), spec, rank); err != nil {
			return err
		}
		if pending {
			continue
		}
		last, _ := json.Marshal(storetest.SampleResult(leanKind(id, key.lean), t0, id))
		if _, err := st.ExecContext(ctx, id, phase.Slot(int64(id), key.interval()), status, string(last), t0.UnixMilli(), recent); err != nil {
			return err
		}
		if key.history > 0 {
			continue
		}
		for k := range 3 {
			if _, err := res.ExecContext(ctx, id, t0.Add(time.Duration(k)*time.Minute).UnixMilli(), 4000+id%3000); err != nil {
				return err
			}
		}
	}
	for k := range key.history { // the last one at t0 + 2 min, as above
		at := t0.Add(time.Duration(k-key.history+3) * time.Minute).UnixMilli()
		for id := 1; id <= scaleN(); id++ {
			if _, err := res.ExecContext(ctx, id, at, 4000+id%3000); err != nil {
				return err
			}
		}
	}
	if key.hours > 0 {
		day := store.Truncate(store.Day, t0).AddDate(0, 0, -1).UnixMilli()
		if _, err := tx.ExecContext(ctx, `WITH RECURSIVE h(k) AS (SELECT 0 UNION ALL SELECT k+1 FROM h WHERE k+1 < ?)
			INSERT INTO rollups SELECT m.id, 'hour', ? + h.k*3600000, 60, 59, 0, 1, 3000, 4000 + m.id%3000, 6000, 9000, 0, 0, 0, 0
			FROM monitors m CROSS JOIN h ORDER BY m.id, h.k`, key.hours, day); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE board_counts SET n = (SELECT count(*) FROM monitors m WHERE m.shown_rank = board_counts.shown_rank)`); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = s.wdb.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

// interval is the interval the template's monitors are tested at: a
// minute, or 0 (their statuses stay at slot = id) byID.
func (k templateKey) interval() time.Duration {
	if k.byID {
		return 0
	}
	return time.Minute
}

// benchOrder is the order in which the benchmark tests monitors (their
// ids less one): as the scheduler does, by their offsets in the minute
// (phase.Slot: a hash of the id), from the top of a minute, or with
// neighbours: consecutive ids from a shuffled start, or in blocks: as
// Load starts monitors never tested (schedule.FirstSlots).
func benchOrder(neighbours, blocks bool) []int {
	order := make([]int, scaleN())
	if blocks {
		slots, _ := schedule.FirstSlots(len(order))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return cmp.Compare(slots[a], slots[b]) })
		return order
	}
	if neighbours {
		start := rand.New(rand.NewPCG(1, 2)).IntN(scaleN())
		for i := range order {
			order[i] = (start + i) % scaleN()
		}
		return order
	}
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Compare(phase.Slot(int64(a+1), time.Minute), phase.Slot(int64(b+1), time.Minute))
	})
	return order
}

func appendStatus(s state.Status) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

// walFrames checkpoints the database and returns the frames the WAL held.
func walFrames(ctx context.Context, db *sql.DB) (int64, error) {
	var busy, log, done int64
	if err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done); err != nil {
		return 0, err
	}
	_, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`) // counts from 0 again
	return log, err
}

// BenchmarkRecordTestScale: "wal" counts the pages each result writes
// to the WAL (checkpointing itself every 256 results instead of SQLite,
// to count them); "io" runs with the store's own settings (its automatic
// checkpoint included) and counts this process's read and write system
// calls and the bytes written (WAL and checkpoint) per result.
//
// "first" stores each monitor's first result (none was tested: the
// daemon's first minute): its status created, its state pending → up
// (a state change), its board rank and counts; at most scaleMonitors
// results (-benchtime 20000x), each monitor's one. "first-neighbours"
// stores them in the order of the monitors' ids, as Load started 50,000
// or more monitors never tested on 2026-12-07: the monitors' rows, their
// board indexes, the results and the state changes met in order, the
// statuses at random (4.10 pages a result against 6.72). "first-blocks"
// stores them as Load starts them since (schedule.FirstSlots): blocks of
// 16 neighbours, the blocks far apart.
//
// "wal-byid" is "wal" on statuses ordered by monitor id, as before
// migration 00018 (slot = id): the statuses one group commits are
// scattered over the table, where "wal" (ordered by slot, the order the
// monitors are tested) has them neighbours. "wal-neighbours" tests
// monitors in the order of their ids on that table: the statuses and
// the results neighbours (the results' share overstated: a monitor has
// three, so one leaf holds several monitors'). "lean" and "lean-byid"
// are "wal" and "wal-byid" with the daemon benchmark's lean mix
// (leanKind): smaller rows, more to a page.
//
// "lean-history60" is "lean" on a database whose monitors each stored 60
// results already (an hour at 60 s; the template, 6,000,000 results and
// a 300 MB file, built in the daemon's order, a minute's results of all
// monitors after another, in about a minute): each result's leaf is met
// at random among ~60,000 that the writer's cache cannot hold.
// "lean-history60-io" is the same with the store's own settings, counting
// system calls as "io" does ("lean-io" without the history). A day's
// history (1,440 a monitor, 144,000,000 results) would take the template
// half an hour to build; an hour already puts every result's leaf out of
// the cache. MAILMON_SCALE_PRAGMAS adds writer settings to weigh beside
// "lean-history60-io" (docs/performance.md, "Minute by minute").
func BenchmarkRecordTestScale(b *testing.B) {
	b.Run("wal", func(b *testing.B) { benchScale(b, scaleRun{frames: true}) })
	b.Run("io", func(b *testing.B) { benchScale(b, scaleRun{}) })
	b.Run("first", func(b *testing.B) {
		if b.N > scaleN() {
			b.Skipf("%d first results: there are %d monitors (-benchtime %dx at most)", b.N, scaleN(), scaleN())
		}
		benchScale(b, scaleRun{frames: true, template: templateKey{untested: true}})
	})
	b.Run("first-neighbours", func(b *testing.B) {
		if b.N > scaleN() {
			b.Skipf("%d first results: there are %d monitors (-benchtime %dx at most)", b.N, scaleN(), scaleN())
		}
		benchScale(b, scaleRun{frames: true, neighbours: true, template: templateKey{untested: true}})
	})
	b.Run("first-blocks", func(b *testing.B) {
		if b.N > scaleN() {
			b.Skipf("%d first results: there are %d monitors (-benchtime %dx at most)", b.N, scaleN(), scaleN())
		}
		benchScale(b, scaleRun{frames: true, blocks: true, template: templateKey{untested: true}})
	})
	b.Run("wal-byid", func(b *testing.B) { benchScale(b, scaleRun{frames: true, template: templateKey{byID: true}}) })
	b.Run("wal-neighbours", func(b *testing.B) {
		benchScale(b, scaleRun{frames: true, neighbours: true, template: templateKey{byID: true}})
	})
	b.Run("lean", func(b *testing.B) { benchScale(b, scaleRun{frames: true, template: templateKey{lean: true}}) })
	b.Run("lean-byid", func(b *testing.B) {
		benchScale(b, scaleRun{frames: true, template: templateKey{lean: true, byID: true}})
	})
	for _, h := range []int{60} {
		key := templateKey{lean: true, history: h}
		b.Run(fmt.Sprintf("lean-history%d", h), func(b *testing.B) { benchScale(b, scaleRun{frames: true, template: key}) })
		b.Run(fmt.Sprintf("lean-history%d-io", h), func(b *testing.B) { benchScale(b, scaleRun{template: key}) })
		// MAILMON_SCALE_PRAGMAS: writer settings to weigh against the
		// store's own, ';' between them, each "name(value)" added to its
		// (a later one of the same name wins): a sub-benchmark each, run
		// interleaved with the store's own (own, 1, 2, 2, 1, own).
		var ps []string
		for p := range strings.SplitSeq(os.Getenv("MAILMON_SCALE_PRAGMAS"), ";") {
			if p = strings.TrimSpace(p); p != "" {
				ps = append(ps, p)
			}
		}
		if len(ps) == 0 {
			continue
		}
		for _, i := range append(abba(len(ps)), -1) {
			name, p := fmt.Sprintf("lean-history%d-io", h), ""
			if i >= 0 {
				name, p = fmt.Sprintf("%s-pragma%d", name, i+1), ps[i]
			}
			b.Run(name, func(b *testing.B) {
				b.Log(p)
				benchScale(b, scaleRun{template: key, pragmas: p})
			})
		}
	}
	b.Run("lean-io", func(b *testing.B) { benchScale(b, scaleRun{template: templateKey{lean: true}}) })
}

// abba is 0 … n-1, then n-1 … 0: variants run in that order, the first and
// last beside the same neighbours.
func abba(n int) []int {
	out := make([]int, 0, 2*n)
	for i := range n {
		out = append(out, i)
	}
	for i := n - 1; i >= 0; i-- {
		out = append(out, i)
	}
	return out
}

// scaleRun is a run of benchScale: frames counts the WAL's pages
// (checkpointing itself), template is the database it copies, neighbours
// tests the monitors in the order of their ids, blocks as Load starts
// monitors never tested; callers record at once (32 if 0), round results
// between counts of the WAL (256 if 0), and a group commits at most
// maxGroup (defaultMaxGroup if 0).
type scaleRun struct {
	frames, neighbours, blocks bool
	template                   templateKey
	pragmas                    string // the writer's, beside its own (writerPragmas)
	callers, round             int
	maxGroup                   int
	// start is the time of the first result (the zero time: now), and
	// setup runs on the store before the timer starts (BenchmarkResultsLayout).
	start time.Time
	setup func(b *testing.B, s *Store)
}

// BenchmarkRecordTestGroup is BenchmarkRecordTestScale's "lean", "first"
// and "first-neighbours" (the daemon's first minute) with more callers than a group holds, for groups of several
// sizes: every group full. "first" is the most pages a group dirties
// (6.7 a result): more than SQLite's page cache holds, they would be
// spilled to the WAL mid-transaction and written again at commit (more
// pages a result, not fewer).
func BenchmarkRecordTestGroup(b *testing.B) {
	for _, n := range []int{64, 128, 256} {
		b.Run(fmt.Sprint("lean/max=", n), func(b *testing.B) {
			benchScale(b, scaleRun{frames: true, template: templateKey{lean: true}, callers: 2 * n, round: 2048, maxGroup: n})
		})
		for _, neighbours := range []bool{false, true} {
			name := map[bool]string{false: "first", true: "first-neighbours"}[neighbours]
			b.Run(fmt.Sprintf("%s/max=%d", name, n), func(b *testing.B) {
				if b.N > scaleN() {
					b.Skipf("%d first results: there are %d monitors (-benchtime %dx at most)", b.N, scaleN(), scaleN())
				}
				benchScale(b, scaleRun{frames: true, neighbours: neighbours, template: templateKey{untested: true},
					callers: 2 * n, round: 2048, maxGroup: n})
			})
		}
	}
}

// openScale opens a copy of the scale template; with countFrames, the
// WAL is checkpointed only by walFrames, which counts its pages.
func openScale(b *testing.B, countFrames bool, key templateKey) *Store {
	ctx := context.Background()
	tmpl := scaleTemplate(b, key)
	path := filepath.Join(b.TempDir(), "scale.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		b.Fatal(err)
	}
	if err := copyFile(tmpl, path); err != nil {
		b.Fatal(err)
	}
	s, err := openWith(ctx, path, key)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if countFrames {
		if _, err := s.wdb.ExecContext(ctx, `PRAGMA wal_autocheckpoint=0`); err != nil {
			b.Fatal(err)
		}
		if _, err := walFrames(ctx, s.wdb); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

func benchScale(b *testing.B, run scaleRun) {
	countFrames, first := run.frames, run.template.untested
	// Cancellable, as the engine's: a statement run under a context that
	// can end costs the driver more (the interrupt watcher) than one run
	// under context.Background().
	ctx := b.Context()
	if run.pragmas != "" {
		old := writerPragmas
		writerPragmas += "&" + url.Values{"_pragma": {run.pragmas}}.Encode()
		defer func() { writerPragmas = old }()
	}
	s := openScale(b, countFrames, run.template)
	if run.setup != nil {
		run.setup(b, s)
	}
	if run.maxGroup > 0 {
		s.maxGroup = run.maxGroup // before the first result: the writer reads it then
	}
	b.ReportAllocs()
	callers, round := cmp.Or(run.callers, 32), cmp.Or(run.round, 256)
	order := benchOrder(run.neighbours, run.blocks)
	t0 := run.start
	if t0.IsZero() {
		t0 = time.Now().Truncate(time.Millisecond)
	}
	var next atomic.Int64
	var frames int64
	txs0, cpu0, io0 := s.groups.txs.Load(), storetest.CPUTime(), readIO(b)
	b.ResetTimer()
	for done := 0; done < b.N; done += round {
		n := min(round, b.N-done)
		var wg sync.WaitGroup
		stop := int64(done + n)
		next.Store(int64(done))
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := next.Add(1) - 1; i < stop; i = next.Add(1) - 1 {
					id := int64(order[i%int64(len(order))] + 1)
					at := t0.Add(time.Duration(i) * time.Millisecond)
					res := storetest.SampleResult(leanKind(int(id), run.template.lean), at, int(id))
					t := store.Test{
						Result:   store.Result{MonitorID: id, Time: at, Status: probe.StatusUp, RTT: res.RTT, Detail: res},
						Status:   store.Status{MonitorID: id, Status: state.Status{State: state.Up, Since: t0, History: 7, Results: 3}, LastResult: res, LastTest: at},
						Interval: run.template.interval(),
					}
					if first { // as the engine records a first result
						t.Status.Status = state.Status{State: state.Up, Since: at, History: 1, Results: 1}
						t.Change = &store.StateChange{MonitorID: id, Time: at, From: state.Pending, To: state.Up, Cause: "test passed"}
					}
					err := s.RecordTest(ctx, t)
					if err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if countFrames {
			f, err := walFrames(ctx, s.wdb)
			if err != nil {
				b.Fatal(err)
			}
			frames += f
		}
	}
	b.StopTimer()
	per := func(v int64) float64 { return float64(v) / float64(b.N) }
	b.ReportMetric(per((storetest.CPUTime() - cpu0).Microseconds()), "cpu-µs/op")
	b.ReportMetric(per(s.groups.txs.Load()-txs0), "tx/op")
	if countFrames {
		b.ReportMetric(per(frames), "pages/op")
		b.ReportMetric(per(frames*(4096+24)), "wal-B/op")
		return
	}
	io := readIO(b)
	b.ReportMetric(per(io["syscr"]-io0["syscr"]), "reads/op")
	b.ReportMetric(per(io["syscw"]-io0["syscw"]), "writes/op")
	b.ReportMetric(per(io["wchar"]-io0["wchar"]), "written-B/op")
}

// readIO is this process's I/O counters (proc(5): /proc/self/io).
func readIO(b *testing.B) map[string]int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		b.Skip("no /proc/self/io:", err)
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			out[k], _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return out
}

// TestMain removes the template database of the benchmarks.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, t := range templates {
		if t.path != "" {
			os.RemoveAll(filepath.Dir(t.path))
		}
	}
	os.Exit(code)
}

// BenchmarkRollUpScale is the janitor's pass over the hours (engine.Tidy:
// RollUp(Hour, now-2h, now+1h), every 5 minutes and at start) at
// 100,000 monitors (the lean mix): "lean" with 3 results a monitor,
// "lean-history60" with 60 (an hour at 60 s, 6,000,000 results), and
// "empty-hour" an hour with no result in it on the latter: what each
// hour's read costs beside its rows. It reports the CPU and the results
// table's rows per pass; each pass replaces the roll-ups it wrote before.
func BenchmarkRollUpScale(b *testing.B) {
	for _, c := range []struct {
		name     string
		key      templateKey
		from, to time.Duration // from now
	}{
		{"lean", templateKey{lean: true}, -2 * time.Hour, time.Hour},
		{"lean-history60", templateKey{lean: true, history: 60}, -2 * time.Hour, time.Hour},
		{"lean-history60-empty-hour", templateKey{lean: true, history: 60}, 5 * time.Hour, 6 * time.Hour},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := b.Context()
			s := openScale(b, false, c.key)
			var rows int64
			if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM results`).Scan(&rows); err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			cpu0 := storetest.CPUTime()
			for b.Loop() {
				if err := s.RollUp(ctx, store.Hour, now.Add(c.from), now.Add(c.to)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((storetest.CPUTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(rows), "results")
		})
	}
}
