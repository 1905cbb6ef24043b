package sqlite

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

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
type resultsLayout struct {
	name string
	ddl  []string
}

const resultsCols = `monitor_id INTEGER NOT NULL, t_ms INTEGER NOT NULL, status INTEGER NOT NULL,
	rtt_us INTEGER NOT NULL, delivery_us INTEGER, code TEXT, detail TEXT,
	node TEXT NOT NULL DEFAULT '', location TEXT NOT NULL DEFAULT ''`

var resultsLayouts = []resultsLayout{
	{"monitor", []string{`CREATE TABLE results (` + resultsCols + `, PRIMARY KEY (monitor_id, t_ms)) WITHOUT ROWID`}},
	{"time", []string{`CREATE TABLE results (` + resultsCols + `, PRIMARY KEY (t_ms, monitor_id)) WITHOUT ROWID`,
		`CREATE UNIQUE INDEX results_monitor ON results(monitor_id, t_ms)`}},
	{"rowid", []string{`CREATE TABLE results (` + resultsCols + `)`,
		`CREATE UNIQUE INDEX results_monitor ON results(monitor_id, t_ms)`}},
	{"minute", []string{`CREATE TABLE results (` + resultsCols + `, PRIMARY KEY (t_ms, monitor_id)) WITHOUT ROWID`,
		`CREATE INDEX results_minute ON results(t_ms/60000, monitor_id)`}},
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
// monitor, the last a minute before now, and returns its key.
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
		start := time.Now()
		if err := buildLayout(path, resultsLayouts[i], history); err != nil {
			return err
		}
		fi, _ := os.Stat(path)
		b.Logf("template %s, %d results a monitor: %d MB, built in %v", resultsLayouts[i].name, history,
			fi.Size()>>20, time.Since(start).Round(time.Second))
		return nil
	})
	return key
}

func buildLayout(path string, l resultsLayout, history int) error {
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
	last := time.Now().Truncate(time.Minute).Add(-2 * time.Minute).UnixMilli()
	for k := history - 1; k >= 0; k-- {
		if _, err := tx.ExecContext(ctx, `INSERT INTO results(monitor_id, t_ms, status, rtt_us, node, location)
			SELECT monitor_id, ? + (slot >> 47), 0, 4000 + monitor_id % 3000, '', '' FROM monitor_status ORDER BY slot`,
			last-int64(k)*60_000); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = s.wdb.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

// BenchmarkResultsLayout is BenchmarkRecordTestScale's "lean-history…"
// ("wal" counting WAL pages, "io" the store's own settings counting
// system calls and bytes written) on each layout of resultsLayouts, run
// in the order monitor, time, rowid, minute, minute, rowid, time,
// monitor; then "monitor" with a bigger writer cache (sized to the hot
// leaves: 100,000 × 4 KiB) and with mmap_size; then "reads": what each
// layout must still serve, timed once (a monitor's last 24 h, the
// janitor's hour read, the prune of the oldest 10 minutes).
func BenchmarkResultsLayout(b *testing.B) {
	h := layoutHistory(b)
	// Each template built when a sub-benchmark that -bench selects needs it.
	for _, i := range abba(len(resultsLayouts)) {
		name := fmt.Sprintf("%s-history%d", resultsLayouts[i].name, h)
		b.Run(name+"-wal", func(b *testing.B) {
			benchScale(b, scaleRun{frames: true, template: layoutTemplate(b, i, h)})
		})
		b.Run(name+"-io", func(b *testing.B) { benchScale(b, scaleRun{template: layoutTemplate(b, i, h)}) })
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
	for i, l := range resultsLayouts {
		b.Run(fmt.Sprintf("reads-%s-history%d", l.name, h), func(b *testing.B) {
			benchLayoutReads(b, l.name, layoutTemplate(b, i, h), h)
		})
	}
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
// serve: "chart-ms" a monitor's last 24 h of raw results (the monitor
// page's chart; the mean of 20 monitors'), "hour-ms" all monitors'
// results of the newest whole hour of the history (the janitor's roll-up
// read, without its writes), "prune-ms" deleting the oldest 10 minutes
// of results (the hourly prune deletes an hour's); each the wall time on
// the store's own settings, its CPU beside it.
func benchLayoutReads(b *testing.B, layout string, key templateKey, history int) {
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
	chart := `SELECT t_ms, status, rtt_us FROM results WHERE monitor_id=? AND t_ms>=? AND t_ms<? ORDER BY t_ms`
	hour := sqlstore.RollHourQuery
	hourArgs := func(from, to int64) []any { return []any{0, from, to} }
	prune := func(before int64) (int64, error) { return s.Prune(ctx, time.UnixMilli(before)) }
	if layout == "minute" { // no index led by the monitor
		// A seek a minute (CROSS JOIN: the minutes outer; the range on
		// +t_ms kept off the key, or the planner scans the key's range).
		chart = `WITH RECURSIVE m(x) AS (SELECT ?2/60000 UNION ALL SELECT x+1 FROM m WHERE x < (?3-1)/60000)
			SELECT r.t_ms, r.status, r.rtt_us FROM m CROSS JOIN results r ON r.t_ms/60000 = m.x AND r.monitor_id = ?1
			WHERE +r.t_ms>=?2 AND +r.t_ms<?3 ORDER BY m.x, r.t_ms`
		hour = `SELECT monitor_id, t_ms, status, rtt_us, delivery_us FROM results WHERE t_ms >= ? AND t_ms < ?`
		hourArgs = func(from, to int64) []any { return []any{from, to} }
		prune = func(before int64) (int64, error) {
			r, err := s.wdb.ExecContext(ctx, `DELETE FROM results WHERE t_ms < ?`, before)
			if err != nil {
				return 0, err
			}
			return r.RowsAffected()
		}
	}
	b.ResetTimer()
	timed := func(name string, n int, fn func() (int64, error)) {
		cpu0, t0 := storetest.CPUTime(), time.Now()
		var rows int64
		for range n {
			r, err := fn()
			if err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			rows += r
		}
		wall, cpu := time.Since(t0), storetest.CPUTime()-cpu0
		m[name+"-ms"] = float64(wall.Microseconds()) / 1000 / float64(n)
		m[name+"-cpu-ms"] = float64(cpu.Microseconds()) / 1000 / float64(n)
		m[name+"-rows"] = float64(rows) / float64(n)
	}
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
	id := 0
	timed("chart", 20, func() (int64, error) {
		id = (id + 7919) % scaleN()
		return query(chart, id+1, tMax-24*time.Hour.Milliseconds(), tMax+1)
	})
	if history >= 60 {
		to := tMax / 3_600_000 * 3_600_000
		timed("hour", 1, func() (int64, error) { return query(hour, hourArgs(to-3_600_000, to)...) })
	}
	timed("prune", 1, func() (int64, error) { return prune(tMin/60_000*60_000 + 10*60_000) })
	b.StopTimer()
	for unit, v := range m {
		b.ReportMetric(v, unit)
	}
}

// layoutReads are benchLayoutReads' figures by template: timed once.
var layoutReads = map[templateKey]map[string]float64{}
