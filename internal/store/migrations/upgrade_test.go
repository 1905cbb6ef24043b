package migrations

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite"
)

// sqliteAt is a new SQLite database migrated up to version, and the
// migrations' provider to take it further; closed when t ends.
func sqliteAt(t testing.TB, version int64) (*sql.DB, *goose.Provider) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "old.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p, err := NewProvider(goose.DialectSQLite3, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
	return db, p
}

// TestUpgradeLocksNobodyOut: users and tokens from before roles and
// scopes keep what they could do: every user an admin, every token every
// scope, no expiry, no second factor.
func TestUpgradeLocksNobodyOut(t *testing.T) {
	ctx := context.Background()
	db, p := sqliteAt(t, 8)
	for _, q := range []string{
		`INSERT INTO users(name, hash, created_ms, updated_ms) VALUES('ops', '$2a$10$x', 1, 1)`,
		`INSERT INTO tokens(name, hash, created_ms) VALUES('ci', 'abc', 1)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	var role, secrets, scopes string
	var expires sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT role, secrets FROM users WHERE name='ops'`).Scan(&role, &secrets); err != nil || role != "admin" || secrets != "{}" {
		t.Errorf("the old user: role %q, secrets %q, %v", role, secrets, err)
	}
	if err := db.QueryRowContext(ctx, `SELECT scopes, expires_ms FROM tokens WHERE name='ci'`).Scan(&scopes, &expires); err != nil || scopes != "read,write,probe,metrics" || expires.Valid {
		t.Errorf("the old token: scopes %q, expires %v, %v", scopes, expires, err)
	}
}

// TestUpgradeCountsTheBoard: 00016 counts the monitors there are by the
// state they show, and leaves their last results to be filled (NULL).
func TestUpgradeCountsTheBoard(t *testing.T) {
	ctx := context.Background()
	db, p := sqliteAt(t, 15)
	for _, q := range []string{
		`INSERT INTO devices(id, name, address, created_ms, updated_ms) VALUES(1, 'd', 'h', 1, 1)`,
		`INSERT INTO monitors(id, device_id, name, type, enabled, spec, created_ms, updated_ms, shown_rank) VALUES
			(1, 1, 'a', 'smtp', 1, '{}', 1, 1, 0), (2, 1, 'b', 'smtp', 1, '{}', 1, 1, 0), (3, 1, 'c', 'smtp', 1, '{}', 1, 1, 3)`,
		`INSERT INTO monitor_status(monitor_id, state, status, last_ms) VALUES(1, 'down', '{}', 1)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	counts := map[int]int{}
	rows, err := db.QueryContext(ctx, `SELECT shown_rank, n FROM board_counts WHERE n<>0`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r, n int
		rows.Scan(&r, &n)
		counts[r] = n
	}
	rows.Close()
	if want := (map[int]int{0: 2, 3: 1}); !reflect.DeepEqual(counts, want) {
		t.Errorf("board counts after the upgrade %v, want %v", counts, want)
	}
	var recent []byte
	var null bool
	if err := db.QueryRowContext(ctx, `SELECT recent, recent IS NULL FROM monitor_status`).Scan(&recent, &null); err != nil || !null {
		t.Errorf("last results after the upgrade: %x (null %v), %v; want NULL, to be filled", recent, null, err)
	}
}

// TestUpgradeDropsOrphanRows: 00020 deletes the roll-ups and state changes
// that older versions left of the monitors of a deleted device, and keeps
// those of the monitors there are.
func TestUpgradeDropsOrphanRows(t *testing.T) {
	ctx := context.Background()
	db, p := sqliteAt(t, 19)
	for _, q := range []string{
		`INSERT INTO devices(id, name, address, created_ms, updated_ms) VALUES(1, 'd', 'h', 1, 1)`,
		`INSERT INTO monitors(id, device_id, name, type, enabled, spec, created_ms, updated_ms, shown_rank) VALUES(1, 1, 'a', 'smtp', 1, '{}', 1, 1, 0)`,
		`INSERT INTO rollups VALUES(1, 'day', 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0), (2, 'day', 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0)`,
		`INSERT INTO state_changes(monitor_id, t_ms, from_state, to_state, cause) VALUES(1, 0, 'pending', 'up', ''), (2, 0, 'pending', 'up', '')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"rollups", "state_changes"} {
		if ids := queryIDs(t, db, `SELECT monitor_id FROM `+table); !reflect.DeepEqual(ids, []int64{1}) {
			t.Errorf("%s of monitors %v after the upgrade; want [1]", table, ids)
		}
	}
}

// TestUpgradeCountsOldClaimsBegun: 00021 counts a pending notification
// that an older version had claimed as begun (it may have been in flight:
// claimed again, it is a late resend), and no other.
func TestUpgradeCountsOldClaimsBegun(t *testing.T) {
	ctx := context.Background()
	db, p := sqliteAt(t, 20)
	if _, err := db.ExecContext(ctx, `INSERT INTO alert_log(id, event_id, monitor_id, alert_id, kind, payload, status, created_ms, claim_until_ms, claimed_by) VALUES
		(1, 'claimed', 1, 1, 'alert', '{}', 'pending', 1, 5000, 'n1'), (2, 'unclaimed', 1, 1, 'alert', '{}', 'pending', 1, NULL, NULL),
		(3, 'sent', 1, 1, 'alert', '{}', 'sent', 1, 5000, 'n1')`); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if begun := queryIDs(t, db, `SELECT id FROM alert_log WHERE begun_ms IS NOT NULL ORDER BY id`); !reflect.DeepEqual(begun, []int64{1}) {
		t.Errorf("begun after the upgrade: %v; want [1], the pending one claimed", begun)
	}
}

// queryIDs returns the ids q selects.
func queryIDs(t *testing.T, db *sql.DB, q string) []int64 {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}
