package sqlite

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlstore"
)

// TestFiringQueryUsesAnIndex: the notifications still firing are found
// through indexes, monitor_status included, now that its index holds the
// firing states alone (migration 00017): in a database of many monitors
// up and a few down, analysed as SQLite's planner would see it,
// monitor_status is searched, not scanned, and the query finds the down
// monitors' alerts.
func TestFiringQueryUsesAnIndex(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t)
	const n, down = 2000, 10
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO devices(id, name, address, created_ms, updated_ms) VALUES(1, 'd', 'd', 0, 0)`)
	exec(`INSERT INTO alerts(id, name, kind, spec, created_ms, updated_ms) VALUES(1, 'ops', 'email', '{}', 0, 0)`)
	for id := 1; id <= n; id++ {
		st := "up"
		if id%(n/down) == 0 {
			st = "down"
		}
		exec(`INSERT INTO monitors(id, device_id, name, type, enabled, spec, secrets, network_target, created_ms, updated_ms) VALUES(?, 1, ?, 'smtp', 1, '{}', '{}', 0, 0, 0)`, id, id)
		exec(`INSERT INTO monitor_status(monitor_id, state, status, last_ms, version) VALUES(?, ?, '{}', 0, 1)`, id, st)
		exec(`INSERT INTO monitor_alerts(monitor_id, alert_id) VALUES(?, 1)`, id)
		exec(`INSERT INTO alert_log(event_id, monitor_id, alert_id, kind, payload, status, created_ms, done_ms) VALUES(?, ?, 1, 'alert', '{}', 'sent', 0, 0)`, fmt.Sprint("a", id), id)
		if st == "up" {
			exec(`INSERT INTO alert_log(event_id, monitor_id, alert_id, kind, payload, status, created_ms, done_ms) VALUES(?, ?, 1, 'recovery', '{}', 'sent', 0, 0)`, fmt.Sprint("r", id), id)
		}
	}
	exec(`ANALYZE`)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	args := []any{"email", store.NotifySent, store.NotifyFailed, time.Now().UnixMilli()}
	plan := queryPlan(t, s.rdb, sqlstore.FiringQuery, args...)
	var st []string
	for _, step := range plan {
		if strings.HasPrefix(step, "SEARCH st ") || strings.HasPrefix(step, "SCAN st") {
			st = append(st, step)
		}
	}
	// SEARCH: by the firing index or by monitor_id, not a whole table
	// or index read.
	if len(st) != 1 || !strings.HasPrefix(st[0], "SEARCH st USING ") {
		t.Errorf("monitor_status in the firing query's plan: %q\nplan: %q", st, plan)
	}
	t.Logf("plan: %q", plan)
	got, err := s.FiringNotifications(ctx, "email", time.Now())
	if err != nil || len(got) != down {
		t.Errorf("%d firing notifications, %v; want %d", len(got), err, down)
	}
}

// TestUpIsInNoStateIndex: monitors that go pending → up (every monitor's
// first result) or stay up write no index of monitor_status but its key,
// monitor_id → slot (migration 00018), written when a status is created
// or moves; one that goes down is in the firing index.
func TestUpIsInNoStateIndex(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t)
	ids := monitors(t, s, 3)
	at := time.Now()
	record := func(id int64, from, to state.State) {
		t.Helper()
		at = at.Add(time.Minute)
		tt := upTest(id)
		tt.Result.Time, tt.Status.LastTest, tt.Status.Status.State = at, at, to
		if from != to {
			tt.Change = &store.StateChange{MonitorID: id, Time: at, From: from, To: to, Cause: "test"}
		}
		if err := s.RecordTest(ctx, tt); err != nil {
			t.Fatal(err)
		}
	}
	entries := func() map[string]int {
		t.Helper()
		out := counts(t, s.rdb, `SELECT i.name, coalesce(sum(d.ncell), 0) FROM pragma_index_list('monitor_status') i
			LEFT JOIN dbstat d ON d.name = i.name GROUP BY i.name`)
		if len(out) == 0 {
			t.Fatal("monitor_status has no index")
		}
		return out
	}
	for _, id := range ids {
		record(id, state.Pending, state.Up)
		record(id, state.Up, state.Up)
	}
	for name, n := range entries() {
		if name == "sqlite_autoindex_monitor_status_1" { // UNIQUE (monitor_id)
			if n != len(ids) {
				t.Errorf("the key index holds %d entries; want one a status, %d", n, len(ids))
			}
			continue
		}
		if n != 0 {
			t.Errorf("index %s holds %d entries of monitors up; want none", name, n)
		}
	}
	record(ids[1], state.Up, state.Down)
	if got := entries(); got["monitor_status_firing"] != 1 {
		t.Errorf("one monitor down: indexes of monitor_status %v; want it in monitor_status_firing", got)
	}
}

// queryPlan is the details of SQLite's EXPLAIN QUERY PLAN of q, step by
// step.
func queryPlan(t testing.TB, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}
