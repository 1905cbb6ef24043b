package sqlite

import (
	"context"
	"database/sql"
	"sort"
	"time"

	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

func (s *Store) RollUp(ctx context.Context, period string, from, to time.Time) error {
	return store.RollUpBuckets(ctx, period, from, to, s.rollBucket, s.rollDay)
}

// rollDay sums up a day from its hours (the raw results of a day of many
// monitors are too many to read again). Its p95 is the highest of its
// hours' p95: an upper bound.
func (s *Store) rollDay(ctx context.Context, period string, start, end time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM rollups WHERE period=? AND start_ms=?`, store.Day, ms(start)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO rollups(monitor_id, period, start_ms, tests, up, warn, down,
			rtt_min_us, rtt_avg_us, rtt_p95_us, rtt_max_us, delivered, delivery_avg_us, delivery_p95_us, delivery_max_us)
			SELECT monitor_id, ?, ?, sum(tests), sum(up), sum(warn), sum(down),
				coalesce(min(CASE WHEN up+warn > 0 THEN rtt_min_us END), 0),
				coalesce(sum(rtt_avg_us*(up+warn)) / nullif(sum(up+warn), 0), 0),
				max(rtt_p95_us), max(rtt_max_us), sum(delivered),
				coalesce(sum(delivery_avg_us*delivered) / nullif(sum(delivered), 0), 0),
				max(delivery_p95_us), max(delivery_max_us)
			FROM rollups WHERE period=? AND start_ms>=? AND start_ms<? GROUP BY monitor_id`,
			store.Day, ms(start), store.Hour, ms(start), ms(end))
		return err
	})
}

func (s *Store) rollBucket(ctx context.Context, period string, start, end time.Time) error {
	rows, err := s.r.QueryContext(ctx, `SELECT monitor_id, status, rtt_us, delivery_us FROM results
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
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM rollups WHERE period=? AND start_ms=?`, period, ms(start)); err != nil {
			return err
		}
		for id, ss := range byMonitor {
			r := store.Aggregate(ss)
			if _, err := tx.ExecContext(ctx, `INSERT INTO rollups(monitor_id, period, start_ms, tests, up, warn, down,
				rtt_min_us, rtt_avg_us, rtt_p95_us, rtt_max_us, delivered, delivery_avg_us, delivery_p95_us, delivery_max_us)
				VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, id, period, ms(start), r.Tests, r.Up, r.Warn, r.Down,
				r.RTTMin.Microseconds(), r.RTTAvg.Microseconds(), r.RTTP95.Microseconds(), r.RTTMax.Microseconds(),
				r.Delivered, r.DeliveryAvg.Microseconds(), r.DeliveryP95.Microseconds(), r.DeliveryMax.Microseconds()); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) Rollups(ctx context.Context, monitorID int64, period string, from, to time.Time) ([]store.Rollup, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT start_ms, tests, up, warn, down, rtt_min_us, rtt_avg_us, rtt_p95_us, rtt_max_us,
		delivered, delivery_avg_us, delivery_p95_us, delivery_max_us FROM rollups
		WHERE monitor_id=? AND period=? AND start_ms>=? AND start_ms<? ORDER BY start_ms`, monitorID, period, ms(from), ms(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Rollup
	for rows.Next() {
		r := store.Rollup{MonitorID: monitorID, Period: period}
		var start, a, b, c, d, e, f, g int64
		if err := rows.Scan(&start, &r.Tests, &r.Up, &r.Warn, &r.Down, &a, &b, &c, &d, &r.Delivered, &e, &f, &g); err != nil {
			return nil, err
		}
		us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
		r.Start = fromMS(start)
		r.RTTMin, r.RTTAvg, r.RTTP95, r.RTTMax = us(a), us(b), us(c), us(d)
		r.DeliveryAvg, r.DeliveryP95, r.DeliveryMax = us(e), us(f), us(g)
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Store) PruneRollups(ctx context.Context, period string, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM rollups WHERE period=? AND start_ms < ?`, period, ms(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (s *Store) StateChangesBetween(ctx context.Context, monitorID int64, from, to time.Time) ([]store.StateChange, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT t_ms, from_state, to_state, cause FROM (
			SELECT t_ms, id, from_state, to_state, cause FROM state_changes WHERE monitor_id=? AND t_ms < ? ORDER BY t_ms DESC, id DESC LIMIT 1)
		UNION ALL
		SELECT t_ms, from_state, to_state, cause FROM (
			SELECT t_ms, id, from_state, to_state, cause FROM state_changes WHERE monitor_id=? AND t_ms >= ? AND t_ms < ? ORDER BY t_ms, id)`,
		monitorID, ms(from), monitorID, ms(from), ms(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.StateChange
	for rows.Next() {
		c := store.StateChange{MonitorID: monitorID}
		var t int64
		var f, to string
		if err := rows.Scan(&t, &f, &to, &c.Cause); err != nil {
			return nil, err
		}
		c.Time, c.From, c.To = fromMS(t), state.State(f), state.State(to)
		out = append(out, c)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Time.Before(out[b].Time) })
	return out, rows.Err()
}
