package sqlstore

import (
	"context"
	"database/sql"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

func (s *Store) RollUp(ctx context.Context, period string, from, to time.Time) error {
	return store.RollUpBuckets(ctx, period, from, to, s.rollBucket, s.rollDay)
}

// replaceRollups replaces the roll-ups of period that start at start by
// those fn writes, in one transaction, in turn with other nodes'
// (PostgreSQL): two nodes replacing the same bucket must not collide.
func (s *Store) replaceRollups(ctx context.Context, period string, start time.Time, fn func(Conn) error) error {
	return s.tx(ctx, func(tx Conn) error {
		if s.d.RollupLock != nil {
			if err := s.d.RollupLock(ctx, tx); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM rollups WHERE period=? AND start_ms=?`, period, ms(start)); err != nil {
			return err
		}
		return fn(tx)
	})
}

const insertRollups = `INSERT INTO rollups(monitor_id, period, start_ms, tests, up, warn, down,
	rtt_min_us, rtt_avg_us, rtt_p95_us, rtt_max_us, delivered, delivery_avg_us, delivery_p95_us, delivery_max_us) `

// rollDay sums up a day from its hours (the raw results of a day of many
// monitors are too many to read again). Its p95 is the highest of its
// hours' p95: an upper bound. Sums are cast to BIGINT so that the averages
// are integer divisions on both databases (PostgreSQL sums BIGINTs as
// NUMERIC).
func (s *Store) rollDay(ctx context.Context, period string, start, end time.Time) error {
	return s.replaceRollups(ctx, store.Day, start, func(tx Conn) error {
		_, err := tx.Exec(ctx, insertRollups+`SELECT monitor_id, CAST(? AS TEXT), CAST(? AS BIGINT), sum(tests), sum(up), sum(warn), sum(down),
				coalesce(min(CASE WHEN up+warn > 0 THEN rtt_min_us END), 0),
				coalesce(CAST(sum(rtt_avg_us*(up+warn)) AS BIGINT) / nullif(CAST(sum(up+warn) AS BIGINT), 0), 0),
				max(rtt_p95_us), max(rtt_max_us), sum(delivered),
				coalesce(CAST(sum(delivery_avg_us*delivered) AS BIGINT) / nullif(CAST(sum(delivered) AS BIGINT), 0), 0),
				max(delivery_p95_us), max(delivery_max_us)
			FROM rollups WHERE period=? AND start_ms>=? AND start_ms<? GROUP BY monitor_id`,
			store.Day, ms(start), store.Hour, ms(start), ms(end))
		return err
	})
}

// rollupRows is how many roll-ups one INSERT writes: 15 values each, under
// the 999 variables of the oldest SQLite builds.
const rollupRows = 64

func (s *Store) rollBucket(ctx context.Context, period string, start, end time.Time) error {
	rows, err := s.r.Query(ctx, `SELECT monitor_id, status, rtt_us, delivery_us FROM results
		WHERE t_ms >= ? AND t_ms < ? ORDER BY monitor_id`, ms(start), ms(end))
	if err != nil {
		return err
	}
	byMonitor := map[int64][]store.Sample{}
	for rows.Next() {
		var id int64
		var sm store.Sample
		var d sql.NullInt64
		if err := rows.Scan(&id, &sm.Status, &sm.RTT, &d); err != nil {
			rows.Close()
			return err
		}
		sm.Delivery, sm.HasDelivery = d.Int64, d.Valid
		byMonitor[id] = append(byMonitor[id], sm)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var args []any
	for _, id := range slices.Sorted(maps.Keys(byMonitor)) {
		r := store.Aggregate(byMonitor[id])
		args = append(args, id, period, ms(start), r.Tests, r.Up, r.Warn, r.Down,
			r.RTTMin.Microseconds(), r.RTTAvg.Microseconds(), r.RTTP95.Microseconds(), r.RTTMax.Microseconds(),
			r.Delivered, r.DeliveryAvg.Microseconds(), r.DeliveryP95.Microseconds(), r.DeliveryMax.Microseconds())
	}
	const cols = 15
	return s.replaceRollups(ctx, period, start, func(tx Conn) error {
		for len(args) > 0 {
			n := min(len(args)/cols, rollupRows)
			values := strings.Repeat(`,(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, n)[1:]
			if _, err := tx.Exec(ctx, insertRollups+`VALUES`+values, args[:n*cols]...); err != nil {
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

func (s *Store) PruneRollups(ctx context.Context, period string, before time.Time) (int64, error) {
	return s.w.Exec(ctx, `DELETE FROM rollups WHERE period=? AND start_ms < ?`, period, ms(before))
}
