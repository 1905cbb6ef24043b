package postgres

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/mailmon/mailmon/internal/schedule/phase"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/migrations"
	"github.com/mailmon/mailmon/internal/testutil/realpg"
)

// TestUpgradeSlotsStatuses: 00018 gives each status of a database at 00017
// its slot at a minute (the default interval), and keeps it; the store
// then finds it, and moves a status tested at another interval.
func TestUpgradeSlotsStatuses(t *testing.T) {
	ctx := context.Background()
	url := realpg.NewDB(t)
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := migrations.NewProvider(goose.DialectPostgres, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, migrations.SlotsVersion-1); err != nil {
		t.Fatal(err)
	}
	every := map[int64]time.Duration{1: time.Minute, 2: time.Minute, 3: time.Minute, 4: time.Minute}
	for _, q := range []string{
		`INSERT INTO devices(id, name, address, created_ms, updated_ms) VALUES(1, 'd', 'h', 1, 1)`,
		`INSERT INTO monitors(id, device_id, name, type, enabled, spec, created_ms, updated_ms, shown_rank) VALUES
			(1, 1, 'a', 'smtp', true, '{}', 1, 1, 0), (2, 1, 'b', 'smtp', true, '{"timing":{"up_every":"2m"}}', 1, 1, 0),
			(3, 1, 'c', 'smtp', true, '{"timing":{"down_every":"30s"}}', 1, 1, 0), (4, 1, 'd', 'imap-roundtrip', true, '{}', 1, 1, 0)`,
		`INSERT INTO monitor_status(monitor_id, state, status, last_ms, version) VALUES
			(1, 'up', '{"n":1}', 11, 1), (2, 'up', '{"n":2}', 12, 2), (3, 'down', '{"n":3}', 13, 3), (4, 'up', '{"n":4}', 14, 4)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, `SELECT monitor_id, slot, status, last_ms, version FROM monitor_status`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, slot, lastMS, version int64
		var status string
		if err := rows.Scan(&id, &slot, &status, &lastMS, &version); err != nil {
			t.Fatal(err)
		}
		n++
		if want := phase.Slot(id, every[id]); slot != want || lastMS != 10+id || version != id {
			t.Errorf("monitor %d after the upgrade: slot %d (want %d, every %v), last_ms %d, version %d", id, slot, want, every[id], lastMS, version)
		}
	}
	if err := rows.Err(); err != nil || n != len(every) {
		t.Errorf("%d statuses after the upgrade, %v; want %d", n, err, len(every))
	}
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	st, err := s.Status(ctx, 2)
	must(err)
	at := time.Now().Truncate(time.Millisecond)
	st.LastTest, st.Status.State = at, "up"
	must(s.RecordTest(ctx, store.Test{Status: *st, Interval: 2 * time.Minute, Result: store.Result{MonitorID: 2, Time: at}}))
	if slots, err := s.StatusSlots(ctx); err != nil || slots[2] != phase.Slot(2, 2*time.Minute) || slots[1] != phase.Slot(1, time.Minute) {
		t.Errorf("the store's slots %v, %v", slots, err)
	}
}
