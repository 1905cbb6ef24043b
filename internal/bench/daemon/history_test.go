package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

func TestFillHistoryStoresEachMonitorsResultsInTimeOrder(t *testing.T) {
	path, db := historyDB(t, 3, 7, 9)
	before := time.Now()
	n, err := fillHistory(context.Background(), path, 4, time.Minute, 0)
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
	if n, err := fillHistory(context.Background(), path, 0, time.Minute, 0); n != 0 || err != nil {
		t.Errorf("no history: %d, %v", n, err)
	}
}

// TestFillHistoryAged: with an age, the history ends that long before
// now (an interval before it), so that serve's first prune has it to
// delete.
func TestFillHistoryAged(t *testing.T) {
	path, db := historyDB(t, 3, 7)
	const age = 7 * 24 * time.Hour
	before := time.Now()
	if n, err := fillHistory(context.Background(), path, 3, time.Minute, age); err != nil || n != 6 {
		t.Fatalf("fillHistory = %d, %v; want 6 results", n, err)
	}
	after := time.Now()
	var first, last int64
	if err := db.QueryRow(`SELECT min(t_ms), max(t_ms) FROM results`).Scan(&first, &last); err != nil {
		t.Fatal(err)
	}
	if lo, hi := before.Add(-age-time.Minute).UnixMilli(), after.Add(-age-time.Minute).UnixMilli()+time.Minute.Milliseconds(); last < lo || last >= hi {
		t.Errorf("the last result at %d: want an interval and %v before the fill, in [%d, %d)", last, age, lo, hi)
	}
	if span := time.Duration(last-first) * time.Millisecond; span < 2*time.Minute || span >= 3*time.Minute {
		t.Errorf("the results span %v, want 2 intervals", span)
	}
}

// historyDB is a database with the monitors of ids and an empty results
// table, as fillHistory reads and writes them; closed when the test ends.
func historyDB(t *testing.T, ids ...int64) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "h.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, q := range []string{
		`CREATE TABLE monitors(id INTEGER PRIMARY KEY)`,
		`CREATE TABLE results(monitor_id INTEGER NOT NULL, t_ms INTEGER NOT NULL, status INTEGER NOT NULL, rtt_us INTEGER NOT NULL, PRIMARY KEY(monitor_id, t_ms)) WITHOUT ROWID`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		if _, err := db.Exec(`INSERT INTO monitors(id) VALUES(?)`, id); err != nil {
			t.Fatal(err)
		}
	}
	return path, db
}
