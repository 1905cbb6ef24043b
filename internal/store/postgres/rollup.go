package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mailmon/mailmon/internal/store"
)

// rollupLock is the advisory lock every node's janitor takes to roll up: one
// at a time, so that two nodes replacing the same bucket do not collide.
const rollupLock = 0x6d61696c6d6f6e // "mailmon"

func (s *Store) RollUp(ctx context.Context, period string, from, to time.Time) error {
	return store.RollUpBuckets(ctx, period, from, to, s.rollBucket, s.rollDay)
}

// rollDay sums up a day from its hours; its p95 is the highest of its
// hours' p95: an upper bound.
func (s *Store) rollDay(ctx context.Context, period string, start, end time.Time) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, rollupLock); err != nil {
			return err
		}
		if _, err := txExec(ctx, tx, `DELETE FROM rollups WHERE period=? AND start_ms=?`, store.Day, ms(start)); err != nil {
			return err
		}
		_, err := txExec(ctx, tx, `INSERT INTO rollups(monitor_id, period, start_ms, tests, up, warn, down,
			rtt_min_us, rtt_avg_us, rtt_p95_us, rtt_max_us, delivered, delivery_avg_us, delivery_p95_us, delivery_max_us)
			SELECT monitor_id, ?::text, ?::bigint, sum(tests), sum(up), sum(warn), sum(down),
				coalesce(min(CASE WHEN up+warn > 0 THEN rtt_min_us END), 0),
				coalesce(div(sum(rtt_avg_us*(up+warn)), nullif(sum(up+warn), 0)), 0),
				max(rtt_p95_us), max(rtt_max_us), sum(delivered),
				coalesce(div(sum(delivery_avg_us*delivered), nullif(sum(delivered), 0)), 0),
				max(delivery_p95_us), max(delivery_max_us)
			FROM rollups WHERE period=? AND start_ms>=? AND start_ms<? GROUP BY monitor_id`,
			store.Day, ms(start), store.Hour, ms(start), ms(end))
		return err
	})
}

func (s *Store) rollBucket(ctx context.Context, period string, start, end time.Time) error {
	rows, err := s.p.Query(ctx, q(`SELECT monitor_id, status, rtt_us, delivery_us FROM results
		WHERE t_ms >= ? AND t_ms < ? ORDER BY monitor_id`), ms(start), ms(end))
	if err != nil {
		return err
	}
	byMonitor := map[int64][]store.Sample{}
	for rows.Next() {
		var id int64
		var sm store.Sample
		var d *int64
		if err := rows.Scan(&id, &sm.Status, &sm.RTT, &d); err != nil {
			rows.Close()
			return err
		}
		if d != nil {
			sm.Delivery, sm.HasDelivery = *d, true
		}
		byMonitor[id] = append(byMonitor[id], sm)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, rollupLock); err != nil {
			return err
		}
		if _, err := txExec(ctx, tx, `DELETE FROM rollups WHERE period=? AND start_ms=?`, period, ms(start)); err != nil {
			return err
		}
		var b pgx.Batch
		for id, ss := range byMonitor {
			r := store.Aggregate(ss)
			b.Queue(q(`INSERT INTO rollups(monitor_id, period, start_ms, tests, up, warn, down,
				rtt_min_us, rtt_avg_us, rtt_p95_us, rtt_max_us, delivered, delivery_avg_us, delivery_p95_us, delivery_max_us)
				VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`), id, period, ms(start), r.Tests, r.Up, r.Warn, r.Down,
				r.RTTMin.Microseconds(), r.RTTAvg.Microseconds(), r.RTTP95.Microseconds(), r.RTTMax.Microseconds(),
				r.Delivered, r.DeliveryAvg.Microseconds(), r.DeliveryP95.Microseconds(), r.DeliveryMax.Microseconds())
		}
		return tx.SendBatch(ctx, &b).Close()
	})
}

func (s *Store) Rollups(ctx context.Context, monitorID int64, period string, from, to time.Time) ([]store.Rollup, error) {
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	return list(ctx, s, func(rows pgx.Rows) (*store.Rollup, error) {
		r := store.Rollup{MonitorID: monitorID, Period: period}
		var start, a, b, c, d, e, f, g int64
		if err := rows.Scan(&start, &r.Tests, &r.Up, &r.Warn, &r.Down, &a, &b, &c, &d, &r.Delivered, &e, &f, &g); err != nil {
			return nil, err
		}
		r.Start = fromMS(start)
		r.RTTMin, r.RTTAvg, r.RTTP95, r.RTTMax = us(a), us(b), us(c), us(d)
		r.DeliveryAvg, r.DeliveryP95, r.DeliveryMax = us(e), us(f), us(g)
		return &r, nil
	}, `SELECT start_ms, tests, up, warn, down, rtt_min_us, rtt_avg_us, rtt_p95_us, rtt_max_us,
		delivered, delivery_avg_us, delivery_p95_us, delivery_max_us FROM rollups
		WHERE monitor_id=? AND period=? AND start_ms>=? AND start_ms<? ORDER BY start_ms`, monitorID, period, ms(from), ms(to))
}

func (s *Store) PruneRollups(ctx context.Context, period string, before time.Time) (int64, error) {
	tag, err := s.exec(ctx, `DELETE FROM rollups WHERE period=? AND start_ms < ?`, period, ms(before))
	return tag.RowsAffected(), err
}
