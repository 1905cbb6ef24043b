package sqlstore

import (
	"context"
	"database/sql"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

func (s *Store) RollUp(ctx context.Context, period string, from, to time.Time) error {
	return store.RollUpBuckets(ctx, period, from, to, s.rollHours, s.rollDay)
}

// writeRollups writes roll-ups (fn's statements), in one transaction, in
// turn with other nodes' (PostgreSQL). A roll-up written again replaces
// the one there (an upsert): a bucket rolled again has the results it had
// and more (a monitor's go with it, DeleteMonitor), so no delete, which
// would cost a seek a monitor, is needed.
func (s *Store) writeRollups(ctx context.Context, fn func(Conn) error) error {
	return s.tx(ctx, func(tx Conn) error {
		if s.d.RollupLock != nil {
			if err := s.d.RollupLock(ctx, tx); err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

const insertRollups = `INSERT INTO rollups(monitor_id, period, start_ms, tests, up, warn, down,
	rtt_min_us, rtt_avg_us, rtt_p95_us, rtt_max_us, delivered, delivery_avg_us, delivery_p95_us, delivery_max_us) `

// onRollup makes insertRollups an upsert.
const onRollup = ` ON CONFLICT (monitor_id, period, start_ms) DO UPDATE SET tests=excluded.tests, up=excluded.up,
	warn=excluded.warn, down=excluded.down, rtt_min_us=excluded.rtt_min_us, rtt_avg_us=excluded.rtt_avg_us,
	rtt_p95_us=excluded.rtt_p95_us, rtt_max_us=excluded.rtt_max_us, delivered=excluded.delivered,
	delivery_avg_us=excluded.delivery_avg_us, delivery_p95_us=excluded.delivery_p95_us, delivery_max_us=excluded.delivery_max_us`

// rollDay sums up a day from its hours (the raw results of a day of many
// monitors are too many to read again). Its p95 is the highest of its
// hours' p95: an upper bound. Sums are cast to BIGINT so that the averages
// are integer divisions on both databases (PostgreSQL sums BIGINTs as
// NUMERIC). A part of the monitors a transaction (inParts).
func (s *Store) rollDay(ctx context.Context, period string, start, end time.Time) error {
	return s.inParts(ctx, PartsOfRollupsQuery, func(lo, hi int64) error {
		return s.writeRollups(ctx, func(tx Conn) error {
			_, err := tx.Exec(ctx, RollDayQuery, lo, hi, hi, store.Day, ms(start), store.Hour, ms(start), ms(end))
			return err
		})
	})
}

// partMonitors is how many monitors' rows one of the janitor's writes
// (a prune, the daily roll-up) takes at most: each is a transaction that
// holds the writer, and on SQLite every test's result waits behind it
// (sqlite/group.go). At 100,000 monitors tested every minute the hourly
// prune deleted 6,000,000 results in one statement, and the day's roll-up
// read 2,400,000 hourly ones in one (BenchmarkJanitorWriterScale: 10-23 s
// and 8-11 s holding the writer on the 2-core benchmark machine, load
// 4-12). A part of 500 monitors' hour of results took 40-120 ms there
// (an hourly roll-ups' prune 7-30 ms, the day's 33-100 ms); 250 keeps the
// prune's under ~60 ms at load 12 (a result a minute; a monitor tested
// more often has more rows a part).
var partMonitors = 250

// inParts runs fn on the monitors that have rows in a table (parts, a
// PartsOf… query: the first id of every partMonitors), a range of ids
// [lo, hi) after another, each its own write, and after each the writer
// left to the tests' results for as long as the part took: parts back to
// back still put seconds of lag on the tests at 100,000 monitors (the
// first pass's prune of an hour: lag p99 peaks 2.3-7.5 s against 6.3-21.6
// in one statement), with the rests 0.04 s; the prune takes twice as long,
// ~20 s, and nothing waits for it. The parts are read first,
// on the reader, a seek a monitor; the first range starts below every id
// and the last ends above, so that rows of monitors added since are in
// one.
func (s *Store) inParts(ctx context.Context, parts string, fn func(lo, hi int64) error) error {
	firsts, err := List(ctx, s.r, func(r Row) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, parts, partMonitors)
	if err != nil {
		return err
	}
	slices.Sort(firsts) // walked in order, but no ORDER BY (a sort of its own)
	for i := range firsts {
		lo, hi := firsts[i], int64(math.MaxInt64)
		if i == 0 {
			lo = math.MinInt64
		}
		if i+1 < len(firsts) {
			hi = firsts[i+1]
		}
		t0 := time.Now()
		if err := fn(lo, hi); err != nil {
			return err
		}
		if i+1 < len(firsts) { // the results' turn: the writer free as long again
			if err := rest(ctx, time.Since(t0)); err != nil {
				return err
			}
		}
	}
	return nil
}

// rest waits d, the time the janitor's last part held the writer, or
// until ctx ends (a variable for tests).
var rest = func(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d): // collected when ctx ends first (Go 1.23 on)
		return nil
	}
}

// deleteInParts runs a delete of the janitor's (its first arguments the
// range of monitor ids: lo, hi, hi) in parts, each its own statement, and
// returns how many rows they deleted.
func (s *Store) deleteInParts(ctx context.Context, parts, query string, args ...any) (int64, error) {
	var deleted int64
	err := s.inParts(ctx, parts, func(lo, hi int64) error {
		n, err := s.w.Exec(ctx, query, append([]any{lo, hi, hi}, args...)...)
		deleted += n
		return err
	})
	return deleted, err
}

// The janitor's statements read and write through the tables' keys
// (results: monitor_id, t_ms; rollups: monitor_id, period, start_ms), a
// range of each monitor's, never the whole table (the keys lead with the
// monitor; an index on time alone would cost every result bytes): a pass
// costs the rows it reads or deletes plus a seek a monitor. The monitor
// ids are those of the table itself, walked by a loose index scan
// (recursive: each the least above the last, on both databases), those in
// a range [lo, hi) by a write (its first three arguments: lo, hi, hi), so
// rows of monitors deleted by older versions go with a prune; roll-ups are
// written for the monitors that exist only (a write racing DeleteMonitor
// never leaves a day roll-up, kept for good, behind). The hours' read is
// driven by the monitors table instead (SQLite walks its ids in order).
const (
	idsOfRollups = `WITH RECURSIVE ids(id) AS (SELECT min(monitor_id) FROM rollups
		UNION ALL SELECT (SELECT min(monitor_id) FROM rollups WHERE monitor_id > ids.id) FROM ids WHERE ids.id IS NOT NULL) `
	resultsIn = `WITH RECURSIVE ids(id) AS (SELECT min(monitor_id) FROM results WHERE monitor_id >= ? AND monitor_id < ?
		UNION ALL SELECT (SELECT min(monitor_id) FROM results WHERE monitor_id > ids.id AND monitor_id < ?) FROM ids WHERE ids.id IS NOT NULL) `
	rollupsIn = `WITH RECURSIVE ids(id) AS (SELECT min(monitor_id) FROM rollups WHERE monitor_id >= ? AND monitor_id < ?
		UNION ALL SELECT (SELECT min(monitor_id) FROM rollups WHERE monitor_id > ids.id AND monitor_id < ?) FROM ids WHERE ids.id IS NOT NULL) `

	// PartsOfResultsQuery and PartsOfRollupsQuery are the first monitor
	// id of every so many (the argument) that have rows in the table.
	PartsOfResultsQuery = `WITH RECURSIVE ids(id, n) AS (SELECT min(monitor_id), 0 FROM results
		UNION ALL SELECT (SELECT min(monitor_id) FROM results WHERE monitor_id > ids.id), n+1 FROM ids WHERE ids.id IS NOT NULL)
		SELECT id FROM ids WHERE id IS NOT NULL AND n % CAST(? AS INTEGER) = 0`
	PartsOfRollupsQuery = `WITH RECURSIVE ids(id, n) AS (SELECT min(monitor_id), 0 FROM rollups
		UNION ALL SELECT (SELECT min(monitor_id) FROM rollups WHERE monitor_id > ids.id), n+1 FROM ids WHERE ids.id IS NOT NULL)
		SELECT id FROM ids WHERE id IS NOT NULL AND n % CAST(? AS INTEGER) = 0`

	// RollHourQuery reads the raw results of a range of hours, a monitor's
	// after another, from a monitor id on.
	RollHourQuery = `SELECT m.id, r.t_ms, r.status, r.rtt_us, r.delivery_us FROM monitors m CROSS JOIN results r
		WHERE m.id >= ? AND r.monitor_id=m.id AND r.t_ms >= ? AND r.t_ms < ? ORDER BY m.id`
	// RollDayQuery writes a day's roll-ups from its hours', of the
	// monitors in a range.
	RollDayQuery = rollupsIn + insertRollups + `SELECT ids.id, CAST(? AS TEXT), CAST(? AS BIGINT), sum(tests), sum(up), sum(warn), sum(down),
			coalesce(min(CASE WHEN up+warn > 0 THEN rtt_min_us END), 0),
			coalesce(CAST(sum(rtt_avg_us*(up+warn)) AS BIGINT) / nullif(CAST(sum(up+warn) AS BIGINT), 0), 0),
			max(rtt_p95_us), max(rtt_max_us), sum(delivered),
			coalesce(CAST(sum(delivery_avg_us*delivered) AS BIGINT) / nullif(CAST(sum(delivered) AS BIGINT), 0), 0),
			max(delivery_p95_us), max(delivery_max_us)
		FROM ids CROSS JOIN rollups r WHERE r.monitor_id=ids.id AND r.period=? AND r.start_ms>=? AND r.start_ms<?
			AND EXISTS (SELECT 1 FROM monitors m WHERE m.id=ids.id)
		GROUP BY ids.id` + onRollup
	// PruneQuery deletes the raw results before a time of the monitors
	// in a range.
	PruneQuery = resultsIn + `DELETE FROM results WHERE monitor_id IN (SELECT id FROM ids) AND t_ms < ?`
	// PruneRollupsQuery deletes the roll-ups of a period before a time of
	// the monitors in a range.
	PruneRollupsQuery = rollupsIn + `DELETE FROM rollups WHERE monitor_id IN (SELECT id FROM ids) AND period=? AND start_ms < ?`
	// LastRollupQuery is the start of the latest roll-up of a period.
	LastRollupQuery = idsOfRollups + `SELECT max((SELECT max(start_ms) FROM rollups WHERE monitor_id=ids.id AND period=?)) FROM ids`
)

// rollupRows is how many roll-ups one INSERT writes: 15 values each, under
// the 999 variables of the oldest SQLite builds.
const rollupRows = 64

// rollReadRows is about how many results one read of rollHours takes (it
// ends before the first row of the next monitor after that many): a read
// is a read transaction, and while one lasts SQLite cannot checkpoint its
// write-ahead log past it, so the log grows by every write made meanwhile
// (one read of an hour and a half of 100,000 monitors' results took
// ~15 s; the log reached 1 GB). ~0.5 s of reading; its roll-ups (~9,000
// at a result a minute) are written in one transaction after it, which
// holds the writer, and the tests' results waiting for it, as briefly.
var rollReadRows = 1 << 19

// rollHours rolls up the hours in [from, to) (whole hours) from their raw
// results, read in parts of about rollReadRows results, the monitors in
// order, each monitor's at once. A part holds every hour of its monitors:
// each monitor's range is sought once, whatever the hours (a node back
// after a week reads 168 hours of each).
func (s *Store) rollHours(ctx context.Context, from, to time.Time) error {
	for next := int64(math.MinInt64); next != done; {
		var err error
		if next, err = s.rollHourPart(ctx, from, to, next); err != nil {
			return err
		}
	}
	return nil
}

// done is rollHourPart's next when the hours are rolled up.
const done = math.MaxInt64

// rollHourPart rolls up the results in [from, to) of the monitors from id
// first on, up to about rollReadRows results, and returns the id of the
// monitor the next part starts at, or done.
func (s *Store) rollHourPart(ctx context.Context, from, to time.Time, first int64) (next int64, err error) {
	rows, err := s.r.Query(ctx, RollHourQuery, first, ms(from), ms(to))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	const cols = 15
	var args []any
	monitor := int64(-1)
	buckets := map[int64][]store.Sample{} // the monitor's, by hour
	flush := func() {
		for _, b := range slices.Sorted(maps.Keys(buckets)) {
			r := store.Aggregate(buckets[b])
			args = append(args, monitor, store.Hour, b, r.Tests, r.Up, r.Warn, r.Down,
				r.RTTMin.Microseconds(), r.RTTAvg.Microseconds(), r.RTTP95.Microseconds(), r.RTTMax.Microseconds(),
				r.Delivered, r.DeliveryAvg.Microseconds(), r.DeliveryP95.Microseconds(), r.DeliveryMax.Microseconds())
		}
		clear(buckets)
	}
	var id, t int64 // scanned into, declared once: each would be a heap object a row
	var sm store.Sample
	var d sql.NullInt64
	next, read := done, 0
	for rows.Next() {
		if err := rows.Scan(&id, &t, &sm.Status, &sm.RTT, &d); err != nil {
			return 0, err
		}
		if id != monitor {
			if read >= rollReadRows {
				next = id // its rows are the next part's
				break
			}
			flush()
			monitor = id
		}
		read++
		sm.Delivery, sm.HasDelivery = d.Int64, d.Valid
		b := ms(store.Truncate(store.Hour, fromMS(t)))
		buckets[b] = append(buckets[b], sm)
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	rows.Close() // the read ends before the write: the log can be checkpointed
	flush()
	if len(args) == 0 {
		return next, nil
	}
	return next, s.writeRollups(ctx, func(tx Conn) error {
		for len(args) > 0 {
			n := min(len(args)/cols, rollupRows)
			values := strings.Repeat(`,(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, n)[1:]
			if _, err := tx.Exec(ctx, insertRollups+`VALUES`+values+onRollup, args[:n*cols]...); err != nil {
				return err
			}
			args = args[n*cols:]
		}
		return nil
	})
}

func (s *Store) Rollups(ctx context.Context, monitorID int64, period string, from, to time.Time) ([]store.Rollup, error) {
	return List(ctx, s.r, func(rows Row) (store.Rollup, error) {
		r := store.Rollup{MonitorID: monitorID, Period: period}
		var start, a, b, c, d, e, f, g int64
		if err := rows.Scan(&start, &r.Tests, &r.Up, &r.Warn, &r.Down, &a, &b, &c, &d, &r.Delivered, &e, &f, &g); err != nil {
			return r, err
		}
		r.Start = fromMS(start)
		r.RTTMin, r.RTTAvg, r.RTTP95, r.RTTMax = us(a), us(b), us(c), us(d)
		r.DeliveryAvg, r.DeliveryP95, r.DeliveryMax = us(e), us(f), us(g)
		return r, nil
	}, `SELECT start_ms, tests, up, warn, down, rtt_min_us, rtt_avg_us, rtt_p95_us, rtt_max_us,
		delivered, delivery_avg_us, delivery_p95_us, delivery_max_us FROM rollups
		WHERE monitor_id=? AND period=? AND start_ms>=? AND start_ms<? ORDER BY start_ms`, monitorID, period, ms(from), ms(to))
}

// PruneRollups deletes in parts of partMonitors monitors (inParts).
func (s *Store) PruneRollups(ctx context.Context, period string, before time.Time) (int64, error) {
	return s.deleteInParts(ctx, PartsOfRollupsQuery, PruneRollupsQuery, period, ms(before))
}

func (s *Store) LastRollup(ctx context.Context, period string) (time.Time, error) {
	var last sql.NullInt64
	if err := s.r.QueryRow(ctx, LastRollupQuery, period).Scan(&last); err != nil || !last.Valid {
		return time.Time{}, err
	}
	return fromMS(last.Int64), nil
}
