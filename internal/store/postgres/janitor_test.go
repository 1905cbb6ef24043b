package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlstore"
	"github.com/mailmon/mailmon/internal/testutil/realpg"
)

// TestJanitorReadsThroughKeys: on an analyzed database of 200 monitors
// (a week of results 10 minutes apart, the 90 days of hourly roll-ups
// kept), the planner reads and deletes the janitor's rows
// through the keys (a seek a monitor), never by a sequential scan of
// results or rollups: the scan grows with what is stored, not with what
// changed.
func TestJanitorReadsThroughKeys(t *testing.T) {
	ctx := context.Background()
	url := realpg.NewDB(t)
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	d := &store.Device{Name: "d", Address: "d"}
	if err := s.PutDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		m := &store.Monitor{DeviceID: d.ID, Name: fmt.Sprint("m", i), Type: "smtp", Enabled: true, Spec: []byte(`{}`)}
		if err := s.PutMonitor(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, q := range []string{
		`INSERT INTO results(monitor_id, t_ms, status, rtt_us) SELECT m.id, g*600000::bigint, 0, 1000 FROM monitors m, generate_series(1, 7*24*6) g`,
		`INSERT INTO rollups SELECT m.id, 'hour', g*3600000::bigint, 6, 6, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0 FROM monitors m, generate_series(1, 90*24) g`,
		`ANALYZE`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []struct {
		name, query string
		args        []any
	}{
		{"hour", sqlstore.RollHourQuery, []any{int64(100 * 3600000), int64(101 * 3600000)}},
		{"day", sqlstore.RollDayQuery, []any{"day", int64(0), "hour", int64(24 * 3600000), int64(48 * 3600000)}},
		{"prune", sqlstore.PruneQuery, []any{int64(3600000)}},
		{"prune roll-ups", sqlstore.PruneRollupsQuery, []any{"hour", int64(3600000)}},
		{"last roll-up", sqlstore.LastRollupQuery, []any{"hour"}},
	} {
		rows, err := c.Query(ctx, `EXPLAIN `+rebind(q.query), q.args...)
		if err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		t.Logf("%s:\n%s", q.name, text)
		if strings.Contains(text, "Seq Scan on results") || strings.Contains(text, "Seq Scan on rollups") {
			t.Errorf("%s: the plan scans a whole table:\n%s", q.name, text)
		}
	}
}
