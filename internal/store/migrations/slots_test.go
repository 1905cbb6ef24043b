package migrations

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/schedule/phase"
)

// TestUpgradeSlotsStatuses: 00018 keeps every status as it was and stores
// the statuses in the order their monitors are tested at a minute (the
// default interval): each at that slot, its rowid, whatever its spec and
// state (a status of another interval moves at its next test:
// storetest's "status slots").
func TestUpgradeSlotsStatuses(t *testing.T) {
	ctx := context.Background()
	db, p := sqliteAt(t, SlotsVersion-1)
	type monitor struct {
		id          int64
		typ, spec   string
		state       string
		every       time.Duration
		last        string // last_result; "" for NULL
		recent      []byte
		version, ms int64
	}
	ms := []monitor{
		{id: 1, typ: "smtp", spec: `{}`, state: "up"},
		{id: 2, typ: "smtp", spec: `{"timing":{"up_every":"2m"}}`, state: "up"},
		{id: 3, typ: "smtp", spec: `{"timing":{"down_every":"30s"}}`, state: "down"},
		{id: 4, typ: "imap-roundtrip", spec: `{}`, state: "up"},
		{id: 5, typ: "smtp", spec: `not json`, state: "up"},
		{id: 6, typ: "smtp", spec: `{}`, state: "lost"},
	}
	for id := int64(7); id <= 300; id++ {
		ms = append(ms, monitor{id: id, typ: "tcp", spec: `{}`, state: "up"})
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO devices(id, name, address, created_ms, updated_ms) VALUES(1, 'd', 'h', 1, 1)`); err != nil {
		t.Fatal(err)
	}
	for i := range ms {
		m := &ms[i]
		m.version, m.ms, m.recent, m.every = m.id*3, 1_700_000_000_000+m.id, []byte{byte(m.id), 1, 2}, time.Minute
		if m.id%2 == 0 {
			m.last = fmt.Sprintf(`{"rtt":%d}`, m.id)
		}
		last := any(nil)
		if m.last != "" {
			last = m.last
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO monitors(id, device_id, name, type, enabled, spec, created_ms, updated_ms, shown_rank) VALUES(?, 1, ?, ?, 1, ?, 1, 1, 0)`,
			m.id, fmt.Sprint("m", m.id), m.typ, m.spec); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO monitor_status(monitor_id, state, status, last_result, last_ms, version, recent) VALUES(?,?,?,?,?,?,?)`,
			m.id, m.state, fmt.Sprintf(`{"state":%q,"n":%d}`, m.state, m.id), last, m.ms, m.version, m.recent); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, `SELECT rowid, monitor_id, state, status, coalesce(last_result, ''), last_ms, version, recent FROM monitor_status`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	byID := map[int64]monitor{}
	for _, m := range ms {
		byID[m.id] = m
	}
	var order []int64
	for rows.Next() {
		var rowid int64
		var got monitor
		var status string
		if err := rows.Scan(&rowid, &got.id, &got.state, &status, &got.last, &got.ms, &got.version, &got.recent); err != nil {
			t.Fatal(err)
		}
		m, ok := byID[got.id]
		if !ok {
			t.Fatalf("a status of monitor %d, which has none", got.id)
		}
		delete(byID, got.id)
		order = append(order, got.id)
		if want := fmt.Sprintf(`{"state":%q,"n":%d}`, m.state, m.id); got.state != m.state || status != want || got.last != m.last ||
			got.ms != m.ms || got.version != m.version || string(got.recent) != string(m.recent) {
			t.Errorf("monitor %d's status after the upgrade: %+v %s; want %+v %s", m.id, got, status, m, want)
		}
		if want := phase.Slot(m.id, m.every); rowid != want {
			t.Errorf("monitor %d (%s, %s, every %v) at rowid %d; want %d", m.id, m.typ, m.state, m.every, rowid, want)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(byID) > 0 {
		t.Errorf("%d statuses lost in the upgrade", len(byID))
	}
	want := make([]int64, 0, len(ms))
	for _, m := range ms {
		want = append(want, m.id)
	}
	every := map[int64]time.Duration{}
	for _, m := range ms {
		every[m.id] = m.every
	}
	slices.SortFunc(want, func(a, b int64) int {
		return cmp.Compare(phase.Slot(a, every[a]), phase.Slot(b, every[b]))
	})
	if !slices.Equal(order, want) {
		t.Errorf("the table's order after the upgrade:\n%v\nwant the test order:\n%v", order, want)
	}
	// The statements find statuses by monitor_id, which stays unique.
	if _, err := db.ExecContext(ctx, `INSERT INTO monitor_status(monitor_id, slot, state, status, last_ms) VALUES(1, 12345, 'up', '{}', 1)`); err == nil {
		t.Error("a second status of monitor 1 was stored")
	}
	if got, _ := indexes(ctx, db, "monitor_status"); !slices.Contains(got, "monitor_status_firing") {
		t.Errorf("indexes of monitor_status after the upgrade: %v; want monitor_status_firing", got)
	}
}
