package main

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// fillHistory stores perMonitor results of every monitor in the database
// at path before serve opens it, a minute's results of all monitors after
// another (interval apart, the last one an interval and age before now:
// with age the raw retention, 7 days, serve's first janitor pass prunes
// them all, as its hourly prune does an hour's at that size), as serve
// stores them: the results table of a database that has run that long,
// its leaves as full, and each new result's leaf met at random among
// them. Only results: the monitors stay never tested (no status), so the
// run's first minute is the same as without history. It returns the
// results stored.
func fillHistory(ctx context.Context, path string, perMonitor int, interval, age time.Duration) (int64, error) {
	if perMonitor <= 0 {
		return 0, nil
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=cache_size(-1000000)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var ids []int64
	rows, err := db.QueryContext(ctx, `SELECT id FROM monitors ORDER BY id`)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO results(monitor_id, t_ms, status, rtt_us) VALUES(?,?,0,?)`)
	if err != nil {
		return 0, err
	}
	now := time.Now().Add(-age).Truncate(time.Millisecond)
	var n int64
	for k := perMonitor; k >= 1; k-- {
		at := now.Add(-time.Duration(k) * interval).UnixMilli()
		for i, id := range ids {
			if _, err := ins.ExecContext(ctx, id, at+int64(i)%interval.Milliseconds(), 4000+id%3000); err != nil {
				return n, fmt.Errorf("history of monitor %d: %w", id, err)
			}
			n++
		}
	}
	if err := tx.Commit(); err != nil {
		return n, err
	}
	_, err = db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return n, err
}
