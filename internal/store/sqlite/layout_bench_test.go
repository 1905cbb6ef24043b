package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlstore"
	"github.com/mailmon/mailmon/internal/store/storetest"
)

// An experiment for issue 25 (bench/results/layout-2026-12-07.md), not
// the product's schema: the results table rebuilt, in a copy of the lean
// template, in other layouts with the same rows, each filled as the
// daemon fills it (a minute's results of all monitors after another, in
// slot order: the order the scheduler tests them, at their phase in the
// minute), and measured on the product's own write path (RecordTest:
// its INSERT … ON CONFLICT (monitor_id, t_ms) needs a unique key on those
// columns, which every layout keeps).
//
//   - "monitor": today's, (monitor_id, t_ms) WITHOUT ROWID: each monitor's
//     newest results in its own last leaf, one hot leaf a monitor.
//   - "time": (t_ms, monitor_id) WITHOUT ROWID, plus the unique index
//     (monitor_id, t_ms) that the per-monitor reads and the upsert need.
//   - "rowid": a rowid table in arrival order, plus the same unique index.
//   - "minute": (t_ms, monitor_id) WITHOUT ROWID (the upsert's key, rows
//     appended at the end of time) and an index on (t_ms/60000,
//     monitor_id) for a monitor's reads, a seek a minute; no index led by
//     the monitor, so the janitor's and the board's statements as written
//     do not fit it (its reads below are prototypes).
//   - "bucket5", "bucket10", "bucket30": (bucket, monitor_id, t_ms)
//     WITHOUT ROWID, bucket = t_ms / (5, 10, 30 minutes), a column the
//     writer fills (SQLite refuses a generated column in a primary key:
//     "generated columns cannot be part of the PRIMARY KEY"), no other
//     index: a bucket's results of a monitor are neighbours, the writes
//     go to the current bucket's region only (monitors × B results), a
//     monitor's reads seek once a bucket, the prune deletes a key range.
//     RecordTest's statement cannot fill the column, so the benchmark
//     swaps it (bucketWrites); its reads are prototypes.
type resultsLayout struct {
	name   string
	ddl    []string
	bucket time.Duration // bucket = t_ms / bucket; 0: no bucket column
}

const resultsCols = `monitor_id INTEGER NOT NULL, t_ms INTEGER NOT NULL, status INTEGER NOT NULL,
	rtt_us INTEGER NOT NULL, delivery_us INTEGER, code TEXT, detail TEXT,
	node TEXT NOT NULL DEFAULT '', location TEXT NOT NULL DEFAULT ''`

var resultsLayouts = []resultsLayout{
	{"monitor", []string{`CREATE TABLE results (` + resultsCols + `, PRIMARY KEY (monitor_id, t_ms)) WITHOUT ROWID`}, 0},
	{"time", []string{`CREATE TABLE results (` + resultsCols + `, PRIMARY KEY (t_ms, monitor_id)) WITHOUT ROWID`,
		`CREATE UNIQUE INDEX results_monitor ON results(monitor_id, t_ms)`}, 0},
	{"rowid", []string{`CREATE TABLE results (` + resultsCols + `)`,
		`CREATE UNIQUE INDEX results_monitor ON results(monitor_id, t_ms)`}, 0},
	{"minute", []string{`CREATE TABLE results (` + resultsCols + `, PRIMARY KEY (t_ms, monitor_id)) WITHOUT ROWID`,
		`CREATE INDEX results_minute ON results(t_ms/60000, monitor_id)`}, 0},
	bucketLayout(5), bucketLayout(10), bucketLayout(30),
}

func bucketLayout(minutes int) resultsLayout {
	return resultsLayout{fmt.Sprint("bucket", minutes), []string{`CREATE TABLE results (bucket INTEGER NOT NULL, ` + resultsCols +
		`, PRIMARY KEY (bucket, monitor_id, t_ms)) WITHOUT ROWID`}, time.Duration(minutes) * time.Minute}
}

// layoutHistory is the results a monitor the layout templates hold: 150
// (the lead's bench-daemon -history 150), MAILMON_LAYOUT_HISTORY, or 10
// with -short.
func layoutHistory(b *testing.B) int {
	if testing.Short() {
		return 10
	}
	if v := os.Getenv("MAILMON_LAYOUT_HISTORY"); v != "" {
		h, err := strconv.Atoi(v)
		if err != nil || h < 1 {
			b.Fatalf("MAILMON_LAYOUT_HISTORY=%q: a count of results", v)
		}
		return h
	}
	return 150
}

// layoutKey is the key under which a layout's template joins the scale
// templates (so that benchScale opens copies of it and TestMain removes
// it): lean, and a history no scale template has (benchScale reads only
// untested, lean and byID of a key).
func layoutKey(layout, history int) templateKey {
	return templateKey{lean: true, history: -(1 + layout + 16*history)}
}

// layoutTemplate builds (once) layout i's template of history results a
// monitor and returns its key; layoutStart is when its writes start.
func layoutTemplate(b *testing.B, i, history int) templateKey {
	key := layoutKey(i, history)
	cachedTemplate(b, key, "mailmon-layout-", func(path string) error {
		src := scaleTemplate(b, templateKey{lean: true})
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			return err
		}
		if err := copyFile(src, path); err != nil {
			return err
		}
		start, t0 := layoutWrites(resultsLayouts[i], time.Now()), time.Now()
		if err := buildLayout(path, resultsLayouts[i], history, start); err != nil {
			return err
		}
		templatesMu.Lock()
		layoutStarts[key] = start
		if resultsLayouts[i].bucket > 0 {
			openDialects[key] = bucketDialect()
		}
		templatesMu.Unlock()
		fi, _ := os.Stat(path)
		b.Logf("template %s, %d results a monitor: %d MB, built in %v", resultsLayouts[i].name, history,
			fi.Size()>>20, time.Since(t0).Round(time.Second))
		return nil
	})
	return key
}

// layoutStarts are the times the runs on each layout template store
// their first result at (layoutWrites).
var layoutStarts = map[templateKey]time.Time{}

func layoutStart(key templateKey) time.Time {
	templatesMu.Lock()
	defer templatesMu.Unlock()
	return layoutStarts[key]
}

// layoutWrites is the minute the runs on l write in, the history's
// minutes before it: the minute before now's, or, in a bucket layout,
// the latest minute half-way into its bucket (2 of 5, 5 of 10, 15 of 30
// minutes), so that the current bucket holds half a bucket's results,
// as on average in the steady state, whatever the time the runs start.
func layoutWrites(l resultsLayout, now time.Time) time.Time {
	w := now.Truncate(time.Minute).Add(-time.Minute)
	if l.bucket > 0 {
		half := (l.bucket / 2).Truncate(time.Minute).Milliseconds()
		for w.UnixMilli()%l.bucket.Milliseconds() != half {
			w = w.Add(-time.Minute)
		}
	}
	return w
}

func buildLayout(path string, l resultsLayout, history int, start time.Time) error {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		return err
	}
	defer s.Close()
	stmts := append([]string{`PRAGMA cache_size=-2000000`, `DROP TABLE results`}, l.ddl...)
	for _, q := range stmts {
		if _, err := s.wdb.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	// A minute's results of all monitors, in slot order, each at its
	// phase in the minute (the slot's high bits, phase.Slot); in one
	// transaction, the tree in the cache: a minute's rows touch most
	// leaves, and a commit each wrote the table to the WAL again.
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	insert := `INSERT INTO results(monitor_id, t_ms, status, rtt_us, node, location)
		SELECT monitor_id, ?1 + (slot >> 47), 0, 4000 + monitor_id % 3000, '', '' FROM monitor_status ORDER BY slot`
	if l.bucket > 0 {
		insert = `INSERT INTO results(bucket, monitor_id, t_ms, status, rtt_us, node, location)
		SELECT (?1 + (slot >> 47)) / ?2, monitor_id, ?1 + (slot >> 47), 0, 4000 + monitor_id % 3000, '', '' FROM monitor_status ORDER BY slot`
	}
	last := start.Add(-time.Minute).UnixMilli()
	for k := history - 1; k >= 0; k-- {
		args := []any{last - int64(k)*60_000}
		if l.bucket > 0 {
			args = append(args, l.bucket.Milliseconds())
		}
		if _, err := tx.ExecContext(ctx, insert, args...); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = s.wdb.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

// bucketDialect is SQLite's with the results' key of the bucket layouts:
// Open prepares RecordTest's statements, and the product's conflict
// target, (monitor_id, t_ms), is no key of theirs ("ON CONFLICT clause
// does not match any PRIMARY KEY or UNIQUE constraint").
func bucketDialect() sqlstore.Dialect {
	d := dialect
	d.ResultKey = "bucket, monitor_id, t_ms"
	return d
}

// openDialects are the dialects templates are opened with, where not
// SQLite's own (openWith).
var openDialects = map[templateKey]sqlstore.Dialect{}

// openWith opens the copy at path of key's template, with the dialect
// openDialects holds for it, if any.
func openWith(ctx context.Context, path string, key templateKey) (*Store, error) {
	templatesMu.Lock()
	d, ok := openDialects[key]
	templatesMu.Unlock()
	if ok {
		old := dialect
		dialect = d
		defer func() { dialect = old }()
	}
	return Open(ctx, path)
}

// bucketWrites makes RecordTest on s store each result with its bucket:
// the product's statement (INSERT INTO results … ON CONFLICT (…) DO
// UPDATE …, its conflict target bucketDialect's (bucket, monitor_id,
// t_ms), which holds the same rows unique as (monitor_id, t_ms), the
// bucket a function of t_ms) with the bucket column added, ?2/bucket,
// prepared as the store prepares its own. The transaction is the
// product's (RecordTest's statements through the group writer); the swap
// costs a string comparison a statement in a wrapper of the writer's
// transaction. (An INSERT into a view with an INSTEAD OF trigger is
// refused: "cannot UPSERT a view".)
func bucketWrites(b *testing.B, s *Store, bucket time.Duration) {
	d := bucketDialect()
	product := sqlstore.RecordStatements(d)[1]
	q := product
	for _, r := range [][2]string{
		{"INSERT INTO results(monitor_id, t_ms,", "INSERT INTO results(bucket, monitor_id, t_ms,"},
		{"VALUES(?,?,?,?,?,?,?,?,?)", fmt.Sprintf("VALUES(?2/%d,?1,?2,?3,?4,?5,?6,?7,?8,?9)", bucket.Milliseconds())},
	} {
		if !strings.Contains(q, r[0]) {
			b.Fatalf("RecordTest's result statement is not the one bucketWrites knows (%q): %s", r[0], product)
		}
		q = strings.Replace(q, r[0], r[1], 1)
	}
	ctx := b.Context()
	if err := s.prepared.Prepare(ctx, s.wdb, []string{q}); err != nil { // no transaction runs yet
		b.Fatal(err)
	}
	s.Store = sqlstore.New(sqlstore.Options{Dialect: d,
		Writer: sqlstore.SQLDB{DB: s.wdb, Prepared: &s.prepared}, Reader: sqlstore.SQLDB{DB: s.rdb},
		Record: func(ctx context.Context, fn func(context.Context, sqlstore.Conn) error) error {
			return s.grouped(ctx, func(ctx context.Context, tx sqlstore.Conn) error {
				return fn(ctx, swapConn{Conn: tx, from: product, to: q})
			})
		},
		Close: s.close})
}

// swapConn runs to where it is asked to run from.
type swapConn struct {
	sqlstore.Conn
	from, to string
}

func (c swapConn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if query == c.from {
		query = c.to
	}
	return c.Conn.Exec(ctx, query, args...)
}

// warmBucket reads the current bucket's results (at start) through the
// writer's connection: its cache then holds what it holds in the steady
// state (the current bucket's pages, as many as fit), not the empty
// cache of a store just opened. Today's and "minute" are not warmed:
// their writes meet the cache's pages again only a minute later (today's:
// each monitor's own leaf, 100,000 of them) or append new ones.
func warmBucket(b *testing.B, s *Store, bucket time.Duration, start time.Time) {
	var n int64
	if err := s.wdb.QueryRowContext(b.Context(), `SELECT count(*) FROM results WHERE bucket = ? AND rtt_us >= 0`,
		start.UnixMilli()/bucket.Milliseconds()).Scan(&n); err != nil {
		b.Fatal(err)
	}
	if n == 0 {
		b.Fatal("warmBucket: the current bucket is empty")
	}
}

// layoutRun is the run of benchScale on layout i's template: a bucket
// layout's writes swapped to fill the bucket and its cache warmed
// (unless cold).
func layoutRun(b *testing.B, i, history int, frames, cold bool, pragmas string) scaleRun {
	key := layoutTemplate(b, i, history)
	run := scaleRun{frames: frames, template: key, start: layoutStart(key), pragmas: pragmas}
	if l := resultsLayouts[i]; l.bucket > 0 {
		run.setup = func(b *testing.B, s *Store) {
			bucketWrites(b, s, l.bucket)
			if !cold {
				warmBucket(b, s, l.bucket, run.start)
			}
		}
	}
	return run
}

// BenchmarkResultsLayout is BenchmarkRecordTestScale's "lean-history…"
// ("wal" counting WAL pages, "io" the store's own settings counting
// system calls and bytes written) on each layout of resultsLayouts, run
// in the order monitor, time, rowid, minute, bucket5, bucket10, bucket30,
// then back (select with -bench: "ResultsLayout/(monitor|minute)-" runs
// those two, interleaved); then "monitor" with a bigger writer cache
// (sized to the hot leaves: 100,000 × 4 KiB) and with mmap_size;
// "bucket10" with its cache cold (a store just opened) and with a cache
// sized to a whole bucket's pages (cachebucket), each logging the
// process's VmRSS after; "size": the bytes each layout's template stores
// a result in (dbstat); then "reads": what each layout must still serve,
// timed once (benchLayoutReads).
func BenchmarkResultsLayout(b *testing.B) {
	h := layoutHistory(b)
	// Each template built when a sub-benchmark that -bench selects needs it.
	for _, i := range abba(len(resultsLayouts)) {
		name := fmt.Sprintf("%s-history%d", resultsLayouts[i].name, h)
		b.Run(name+"-wal", func(b *testing.B) { benchScale(b, layoutRun(b, i, h, true, false, "")) })
		b.Run(name+"-io", func(b *testing.B) { benchScale(b, layoutRun(b, i, h, false, false, "")) })
	}
	for _, p := range []struct{ name, pragmas string }{
		{"cache512m", "cache_size(-512000)"},
		{"mmap1g", "mmap_size(1073741824)"},
	} {
		b.Run(fmt.Sprintf("monitor-history%d-io-%s", h, p.name), func(b *testing.B) {
			benchScale(b, scaleRun{template: layoutTemplate(b, 0, h), pragmas: p.pragmas})
			b.Logf("VmRSS %s", procStatus("VmRSS"))
		})
	}
	b10 := slices.IndexFunc(resultsLayouts, func(l resultsLayout) bool { return l.name == "bucket10" })
	for _, v := range []string{"cold", "cachebucket", "cachebucket", "cold"} {
		b.Run(fmt.Sprintf("bucket10-history%d-io-%s", h, v), func(b *testing.B) {
			pragmas := ""
			if v == "cachebucket" {
				st := layoutSize(b, b10, h)
				kib := st.bucketPages(resultsLayouts[b10].bucket, h) * 4 * 5 / 4 // and a quarter for the rest
				pragmas = fmt.Sprintf("cache_size(-%d)", kib)
				b.Logf("%s: %d KiB", pragmas, kib)
			}
			benchScale(b, layoutRun(b, b10, h, false, v == "cold", pragmas))
			b.Logf("VmRSS %s", procStatus("VmRSS"))
		})
	}
	for i, l := range resultsLayouts {
		b.Run(fmt.Sprintf("size-%s-history%d", l.name, h), func(b *testing.B) {
			st := layoutSize(b, i, h)
			b.ReportMetric(float64(st.bytes)/float64(st.rows), "stored-B/result")
			b.ReportMetric(float64(st.payload)/float64(st.rows), "payload-B/result")
			b.ReportMetric(100*float64(st.bytes-st.unused)/float64(st.bytes), "used-%")
			b.ReportMetric(float64(st.pages), "pages")
		})
	}
	for i, l := range resultsLayouts {
		b.Run(fmt.Sprintf("reads-%s-history%d", l.name, h), func(b *testing.B) {
			benchLayoutReads(b, l, layoutTemplate(b, i, h), h)
		})
	}
}

// layoutStat is what a layout's template stores its results in: the
// results table's pages and its indexes' (dbstat), their bytes, the
// records' bytes and the bytes left unused, and the rows.
type layoutStat struct {
	rows, pages, bytes, payload, unused int64
}

// bucketPages is about the pages of a whole bucket's results.
func (st layoutStat) bucketPages(bucket time.Duration, history int) int64 {
	return st.pages * int64(bucket/time.Minute) / int64(history)
}

var layoutStats = map[templateKey]layoutStat{}

// layoutSize measures (once) layout i's template.
func layoutSize(b *testing.B, i, history int) layoutStat {
	key := layoutTemplate(b, i, history)
	if st, ok := layoutStats[key]; ok {
		return st
	}
	db, err := sql.Open("sqlite", fileURI(scaleTemplate(b, key))+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var st layoutStat
	ctx := b.Context()
	if err := db.QueryRowContext(ctx, `SELECT count(*), sum(pgsize), sum(payload), sum(unused) FROM dbstat
		WHERE name IN (SELECT name FROM sqlite_schema WHERE tbl_name = 'results')`).Scan(&st.pages, &st.bytes, &st.payload, &st.unused); err != nil {
		b.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM results`).Scan(&st.rows); err != nil {
		b.Fatal(err)
	}
	layoutStats[key] = st
	return st
}

// procStatus is a field of /proc/self/status (proc(5)).
func procStatus(field string) string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// benchLayoutReads times, once whatever b.N, the reads a layout must
// serve, each its wall time on the store's own settings and its CPU
// ("-ms", "-cpu-ms", and "-rows", a call; a monitor's reads the mean of
// 20 monitors'), "now" a minute after the newest result:
//   - chart: a monitor's last 24 h, three columns (as the first runs of
//     2026-12-07 timed it);
//   - results24h: Results(24 h, limit 20,000), the monitor page's chart
//     (web/monitorchart.go);
//   - list50: Results(7 days, limit 50), the monitor page's last tests;
//   - recent: RecentResults of a board page, 50 monitors × 40;
//   - latest: LatestResults(24 h) (api/health.go, engine/locations.go);
//   - hour: the janitor's roll-up read of the newest whole hour, without
//     its writes;
//   - prune: deleting the results before the first whole hour after the
//     oldest hour (60–119 minutes of results: see prune-rows).
//
// Today's, time and rowid run the product's statements; minute and the
// bucket layouts prototypes (minute only chart, hour and prune).
func benchLayoutReads(b *testing.B, l resultsLayout, key templateKey, history int) {
	if m := layoutReads[key]; m != nil { // timed already (the run with b.N = 1)
		for unit, v := range m {
			b.ReportMetric(v, unit)
		}
		return
	}
	m := map[string]float64{}
	layoutReads[key] = m
	ctx := b.Context()
	s := openScale(b, false, key)
	var tMin, tMax int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT min(t_ms), max(t_ms) FROM results`).Scan(&tMin, &tMax); err != nil {
		b.Fatal(err)
	}
	now := time.UnixMilli(tMax).Add(time.Minute)
	query := func(q string, args ...any) (int64, error) {
		rows, err := s.rdb.QueryContext(ctx, q, args...)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		var n int64
		for rows.Next() {
			n++
		}
		return n, rows.Err()
	}
	n := func(rs []store.Result, err error) (int64, error) { return int64(len(rs)), err }
	type read func(id int64) (int64, error)
	chart := func(id int64) (int64, error) {
		return query(`SELECT t_ms, status, rtt_us FROM results WHERE monitor_id=? AND t_ms>=? AND t_ms<? ORDER BY t_ms`,
			id, tMax-24*time.Hour.Milliseconds(), tMax+1)
	}
	results24h := func(id int64) (int64, error) { return n(s.Results(ctx, id, now.Add(-24*time.Hour), now, 20_000)) }
	list50 := func(id int64) (int64, error) { return n(s.Results(ctx, id, now.Add(-7*24*time.Hour), now, 50)) }
	recent := func(ids []int64) (int64, error) {
		rs, err := s.RecentResults(ctx, ids, store.RecentSize)
		var k int64
		for _, r := range rs {
			k += int64(len(r))
		}
		return k, err
	}
	latest := func(id int64) (int64, error) { return n(s.LatestResults(ctx, id, now.Add(-24*time.Hour))) }
	hour := func(from, to int64) (int64, error) { return query(sqlstore.RollHourQuery, 0, from, to) }
	prune := func(before int64) (int64, error) { return s.Prune(ctx, time.UnixMilli(before)) }
	deleteWhere := func(q string, args ...any) (int64, error) {
		r, err := s.wdb.ExecContext(ctx, q, args...)
		if err != nil {
			return 0, err
		}
		return r.RowsAffected()
	}
	switch {
	case l.name == "minute": // no index led by the monitor
		// A seek a minute (CROSS JOIN: the minutes outer; the range on
		// +t_ms kept off the key, or the planner scans the key's range).
		chart = func(id int64) (int64, error) {
			return query(`WITH RECURSIVE m(x) AS (SELECT ?2/60000 UNION ALL SELECT x+1 FROM m WHERE x < (?3-1)/60000)
			SELECT r.t_ms, r.status, r.rtt_us FROM m CROSS JOIN results r ON r.t_ms/60000 = m.x AND r.monitor_id = ?1
			WHERE +r.t_ms>=?2 AND +r.t_ms<?3 ORDER BY m.x, r.t_ms`, id, tMax-24*time.Hour.Milliseconds(), tMax+1)
		}
		results24h, list50, recent, latest = nil, nil, nil, nil
		hour = func(from, to int64) (int64, error) {
			return query(`SELECT monitor_id, t_ms, status, rtt_us, delivery_us FROM results WHERE t_ms >= ? AND t_ms < ?`, from, to)
		}
		prune = func(before int64) (int64, error) { return deleteWhere(`DELETE FROM results WHERE t_ms < ?`, before) }
	case l.bucket > 0:
		q := bucketReads(l.bucket)
		for _, p := range []struct {
			q    string
			args []any
		}{{q.chart, []any{1, 0, 1}}, {q.results, []any{1, 0, 1, 1}}, {q.recent, []any{1, 0, 1, 1}}, {q.latest, []any{1, 0, 1}},
			{q.hour, []any{0, 1}}, {q.prune, []any{0}}} {
			b.Logf("%s\n    %s", p.q, strings.Join(queryPlan(b, s.rdb, p.q, p.args...), "\n    "))
		}
		chart = func(id int64) (int64, error) {
			return query(q.chart, id, tMax-24*time.Hour.Milliseconds(), tMax+1)
		}
		results24h = func(id int64) (int64, error) {
			return query(q.results, id, now.Add(-24*time.Hour).UnixMilli(), now.UnixMilli(), 20_000)
		}
		list50 = func(id int64) (int64, error) {
			return query(q.results, id, now.Add(-7*24*time.Hour).UnixMilli(), now.UnixMilli(), 50)
		}
		recent = func(ids []int64) (int64, error) {
			var k int64
			for _, id := range ids { // as RecentResults: a statement a monitor
				r, err := query(q.recent, id, now.Add(-7*24*time.Hour).UnixMilli(), now.UnixMilli(), store.RecentSize)
				if err != nil {
					return 0, err
				}
				k += r
			}
			return k, nil
		}
		latest = func(id int64) (int64, error) {
			return query(q.latest, id, now.Add(-24*time.Hour).UnixMilli(), now.UnixMilli())
		}
		hour = func(from, to int64) (int64, error) { return query(q.hour, from, to) }
		prune = func(before int64) (int64, error) { return deleteWhere(q.prune, before) }
	}
	b.ResetTimer()
	timed := func(name string, k int, fn func() (int64, error)) {
		cpu0, t0 := storetest.CPUTime(), time.Now()
		var rows int64
		for range k {
			r, err := fn()
			if err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			rows += r
		}
		wall, cpu := time.Since(t0), storetest.CPUTime()-cpu0
		m[name+"-ms"] = float64(wall.Microseconds()) / 1000 / float64(k)
		m[name+"-cpu-ms"] = float64(cpu.Microseconds()) / 1000 / float64(k)
		m[name+"-rows"] = float64(rows) / float64(k)
	}
	perMonitor := func(name string, fn read) {
		if fn == nil {
			return
		}
		id := 0
		timed(name, 20, func() (int64, error) {
			id = (id + 7919) % scaleN()
			return fn(int64(id + 1))
		})
	}
	perMonitor("chart", chart)
	perMonitor("results24h", results24h)
	perMonitor("list50", list50)
	perMonitor("latest", latest)
	if recent != nil {
		page := make([]int64, 50)
		for i := range page {
			page[i] = int64(i*(scaleN()/50) + 1)
		}
		timed("recent", 1, func() (int64, error) { return recent(page) })
	}
	if history >= 60 {
		to := tMax / 3_600_000 * 3_600_000
		timed("hour", 1, func() (int64, error) { return hour(to-3_600_000, to) })
	}
	timed("prune", 1, func() (int64, error) { return prune(tMin/3_600_000*3_600_000 + 2*3_600_000) })
	b.StopTimer()
	for unit, v := range m {
		b.ReportMetric(v, unit)
	}
}

// layoutReads are benchLayoutReads' figures by template: timed once.
var layoutReads = map[templateKey]map[string]float64{}

// bucketQueries are the prototypes of a bucket layout's reads: a
// monitor's lists the buckets of their time range (a recursive CTE, in an
// IN: a seek a bucket, in the key's order, so that a LIMIT ends the walk
// early; "bucket BETWEEN ? AND ? AND monitor_id=?" searches the range of
// every monitor's rows unless ANALYZE has run, which the store never
// runs), the hour's read and the prune a range of buckets (an hour is
// whole buckets).
type bucketQueries struct {
	chart   string // ?1 monitor, [?2, ?3)
	results string // Results': ?1 monitor, [?2, ?3), limit ?4
	recent  string // recentResults': ?1 monitor, buckets of [?2, ?3), limit ?4
	latest  string // LatestResults': ?1 monitor, [?2, ?3)
	hour    string // [?1, ?2), whole buckets
	prune   string // before ?1, a bucket's start
}

func bucketReads(bucket time.Duration) bucketQueries {
	bk := bucket.Milliseconds()
	in := func(lo, hi string) string {
		return fmt.Sprintf(`(WITH RECURSIVE b(x) AS (SELECT %[1]s/%[3]d UNION ALL SELECT x+1 FROM b WHERE x < (%[2]s-1)/%[3]d) SELECT x FROM b)`, lo, hi, bk)
	}
	cols := `r.t_ms, r.status, r.rtt_us, r.delivery_us, r.code, r.detail, r.node, r.location`
	return bucketQueries{
		chart: `SELECT t_ms, status, rtt_us FROM results WHERE bucket IN ` + in("?2", "?3") +
			` AND monitor_id=?1 AND t_ms>=?2 AND t_ms<?3 ORDER BY bucket, t_ms`,
		results: `SELECT ` + cols + ` FROM results r WHERE r.bucket IN ` + in("?2", "?3") +
			` AND r.monitor_id=?1 AND r.t_ms>=?2 AND r.t_ms<?3 ORDER BY r.bucket DESC, r.t_ms DESC, r.location LIMIT ?4`,
		recent: `SELECT t_ms, status, rtt_us, code FROM results WHERE bucket IN ` + in("?2", "?3") +
			` AND monitor_id=?1 ORDER BY bucket DESC, t_ms DESC LIMIT ?4`,
		latest: `SELECT ` + cols + ` FROM results r JOIN (SELECT location, max(t_ms) AS t FROM results WHERE bucket IN ` + in("?2", "?3") +
			` AND monitor_id=?1 AND t_ms>=?2 GROUP BY location) l ON r.bucket = l.t/` + fmt.Sprint(bk) +
			` AND r.monitor_id=?1 AND r.t_ms=l.t AND r.location=l.location ORDER BY r.location`,
		hour:  fmt.Sprintf(`SELECT monitor_id, t_ms, status, rtt_us, delivery_us FROM results WHERE bucket >= ?1/%[1]d AND bucket < ?2/%[1]d`, bk),
		prune: fmt.Sprintf(`DELETE FROM results WHERE bucket < ?1/%d`, bk),
	}
}
