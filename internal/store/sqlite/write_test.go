package sqlite

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// TestKeptStateWritesLess: a test that leaves a monitor's state as it
// was writes neither the state (nor so its index, a page a result at
// 100,000 monitors) nor the board's rank; one that changes it writes
// both. Triggers count the writes.
func TestKeptStateWritesLess(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t)
	id := monitors(t, s, 1)[0]
	for _, q := range []string{
		`CREATE TABLE writes(what TEXT)`,
		`CREATE TRIGGER count_state AFTER UPDATE OF state ON monitor_status BEGIN INSERT INTO writes VALUES('state'); END`,
		`CREATE TRIGGER count_rank AFTER UPDATE OF shown_rank ON monitors BEGIN INSERT INTO writes VALUES('rank'); END`,
	} {
		if _, err := s.wdb.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	writes := func() map[string]int {
		t.Helper()
		out := counts(t, s.rdb, `SELECT what, count(*) FROM writes GROUP BY what`)
		if _, err := s.wdb.ExecContext(ctx, `DELETE FROM writes`); err != nil {
			t.Fatal(err)
		}
		return out
	}
	at := time.Now()
	record := func(st state.State) {
		t.Helper()
		at = at.Add(time.Minute)
		tt := upTest(id)
		tt.Result.Time, tt.Status.LastTest, tt.Status.Status.State = at, at, st
		if err := s.RecordTest(ctx, tt); err != nil {
			t.Fatal(err)
		}
	}
	record(state.Up) // the first: the status is created, the rank written
	if got := writes(); got["rank"] != 1 {
		t.Errorf("first test: writes %v, want the rank once", got)
	}
	for range 3 {
		record(state.Up)
	}
	if got := writes(); len(got) != 0 {
		t.Errorf("three tests keeping the state: writes %v, want none", got)
	}
	record(state.Down)
	if got := writes(); got["state"] != 1 || got["rank"] != 1 {
		t.Errorf("a change: writes %v, want the state and the rank once", got)
	}
	st, err := s.Status(ctx, id)
	if err != nil || st.Status.State != state.Down || st.Version != 5 || !st.LastTest.Equal(at.Truncate(time.Millisecond)) {
		t.Errorf("status %+v, %v", st, err)
	}
	if ms, _, err := s.Monitors(ctx, store.MonitorFilter{State: state.Down}); err != nil || len(ms) != 1 {
		t.Errorf("monitors shown down: %v, %v", ms, err)
	}
}

// TestWriterSettings: the writer's cache and checkpoint are its own
// (writerPragmas); the readers keep SQLite's defaults.
func TestWriterSettings(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t)
	for _, c := range []struct {
		db     *sql.DB
		pragma string
		want   int
	}{{s.wdb, "cache_size", -16000}, {s.wdb, "wal_autocheckpoint", 8000}, {s.rdb, "cache_size", -2000}} {
		var got int
		if err := c.db.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil || got != c.want {
			t.Errorf("%s: %d, %v; want %d", c.pragma, got, err, c.want)
		}
	}
}

// counts is the rows of query, a name and a number each, as a map.
func counts(t testing.TB, db *sql.DB, query string) map[string]int {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		out[name] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
