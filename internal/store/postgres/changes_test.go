package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mailmon/mailmon/internal/testutil/realpg"
)

// TestConfigWritersDoNotDeadlock: two transactions that write the
// configuration at once, one a device then a monitor (as apply does), the
// other a monitor alone (as the API does), take the rows the triggers keep
// (config_changes, then board_counts) in one order: the second waits for
// the first rather than each holding the row the other needs. With the
// config_changes trigger after board_counts', the monitor alone held its
// rank's count and waited for config_changes, which the device's update
// held: PostgreSQL broke the deadlock by failing one of them.
func TestConfigWritersDoNotDeadlock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url := realpg.NewDB(t)
	s, err := Open(ctx, url) // migrated to the newest schema
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn := func() *pgx.Conn {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}
	apply, api, watch := conn(), conn(), conn()
	if _, err := apply.Exec(ctx, `INSERT INTO devices(id, name, address, created_ms, updated_ms) VALUES(1, 'd', 'h', 1, 1)`); err != nil {
		t.Fatal(err)
	}
	monitor := func(id int) string {
		return fmt.Sprintf(`INSERT INTO monitors(id, device_id, name, type, enabled, spec, created_ms, updated_ms, shown_rank)
			VALUES(%d, 1, 'm%d', 'smtp', true, '{}', 1, 1, 0)`, id, id)
	}

	// apply: the device first; its transaction now holds config_changes
	txApply, err := apply.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := txApply.Exec(ctx, `UPDATE devices SET address='h2', updated_ms=2 WHERE id=1`); err != nil {
		t.Fatal(err)
	}
	// the API: a monitor, which must wait for apply's transaction
	apiPID := api.PgConn().PID()
	apiDone := make(chan error, 1)
	go func() {
		tx, err := api.Begin(ctx)
		if err != nil {
			apiDone <- err
			return
		}
		if _, err := tx.Exec(ctx, monitor(1)); err != nil {
			tx.Rollback(ctx)
			apiDone <- err
			return
		}
		apiDone <- tx.Commit(ctx)
	}()
	// until the API's statement waits for a lock
	for {
		var waiting bool
		err := watch.QueryRow(ctx, `SELECT coalesce(wait_event_type = 'Lock', false) FROM pg_stat_activity WHERE pid = $1`, apiPID).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		select {
		case err := <-apiDone:
			t.Fatalf("the API's monitor did not wait for apply's transaction: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	// apply goes on to a monitor of its own, then commits
	if _, err := txApply.Exec(ctx, monitor(2)); err != nil {
		t.Fatalf("apply's monitor after its device, while the API's monitor waits: %v", err)
	}
	if err := txApply.Commit(ctx); err != nil {
		t.Fatalf("apply's commit: %v", err)
	}
	if err := <-apiDone; err != nil {
		t.Fatalf("the API's monitor, after apply committed: %v", err)
	}
	var n int
	if err := watch.QueryRow(ctx, `SELECT n FROM board_counts WHERE shown_rank = 0`).Scan(&n); err != nil || n != 2 {
		t.Errorf("board count of rank 0: %d, %v; want 2", n, err)
	}
}
