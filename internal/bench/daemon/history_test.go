package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

func TestFillHistoryStoresEachMonitorsResultsInTimeOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE monitors(id INTEGER PRIMARY KEY)`,
		`CREATE TABLE results(monitor_id INTEGER NOT NULL, t_ms INTEGER NOT NULL, status INTEGER NOT NULL, rtt_us INTEGER NOT NULL, PRIMARY KEY(monitor_id, t_ms)) WITHOUT ROWID`,
		`INSERT INTO monitors(id) VALUES(3),(7),(9)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	before := time.Now()
	n, err := fillHistory(context.Background(), path, 4, time.Minute)
	if err != nil || n != 12 {
		t.Fatalf("fillHistory = %d, %v; want 12 results", n, err)
	}
	var count, monitors int64
	var first, last int64
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT monitor_id), min(t_ms), max(t_ms) FROM results`).Scan(&count, &monitors, &first, &last); err != nil {
		t.Fatal(err)
	}
	if count != 12 || monitors != 3 {
		t.Errorf("%d results of %d monitors, want 12 of 3", count, monitors)
	}
	if span := time.Duration(last-first) * time.Millisecond; span < 3*time.Minute || span >= 4*time.Minute {
		t.Errorf("the results span %v, want 3 intervals (4 results a minute apart)", span)
	}
	if last >= before.UnixMilli() {
		t.Errorf("the last result at %d is not before the fill (%d): serve's first would collide", last, before.UnixMilli())
	}
	if n, err := fillHistory(context.Background(), path, 0, time.Minute); n != 0 || err != nil {
		t.Errorf("no history: %d, %v", n, err)
	}
}
