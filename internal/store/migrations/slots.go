package migrations

import (
	"cmp"
	"context"
	"database/sql"
	"io/fs"
	"slices"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/mailmon/mailmon/internal/schedule/phase"
)

// NewProvider is the provider of dialect's migrations (goose.DialectSQLite3
// or goose.DialectPostgres) on db: its directory's SQL files and the Go
// migrations, which compute in Go what SQL cannot.
func NewProvider(dialect goose.Dialect, db *sql.DB, opts ...goose.ProviderOption) (*goose.Provider, error) {
	fsys, dir := fs.FS(SQLite), "sqlite"
	if dialect == goose.DialectPostgres {
		fsys, dir = Postgres, "postgres"
	}
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, err
	}
	up, down := slotsUp(dialect), slotsDown(dialect)
	opts = append(opts, goose.WithDisableGlobalRegistry(true), goose.WithGoMigrations(
		goose.NewGoMigration(SlotsVersion, &goose.GoFunc{RunTx: up}, &goose.GoFunc{RunTx: down})))
	return goose.NewProvider(dialect, db, sub, opts...)
}

// SlotsVersion is migration 00018: each monitor's status is stored at its
// slot, its place in the order the scheduler tests monitors
// (phase.Slot), so that the statuses one group commit writes are
// neighbours rather than scattered over the table.
//
// SQLite keeps a table in the order of its rowid: the slot becomes the
// rowid (INTEGER PRIMARY KEY), monitor_id a unique key beside it, which
// the statements find rows by. At 100,000 monitors a result of the
// daemon benchmark's lean mix then writes 1.31 pages to the WAL instead
// of 2.01 (BenchmarkRecordTestScale's lean against lean-byid).
//
// PostgreSQL keeps no table in any order (CLUSTER orders it once, and an
// update writes a new row version wherever there is room, on the same
// page if it can): it gets the column only, unindexed, so that one set
// of statements (sqlstore) serves both stores.
const SlotsVersion = 18

// slotOf is the slot 00018 gives monitor id's status: at a minute, the
// default interval, which most monitors are tested at (and every
// multiple of it lines up). A status of another interval (a round trip's
// 5 minutes, a monitor failing, one set otherwise) moves to its place at
// its monitor's next test: the store's statements move a status stored
// at another slot than its test's. A minute rather than each monitor's
// own interval: that would take the config package (its defaults by
// type), which the stores cannot import (config → recovery → the stores,
// in recovery's tests).
func slotOf(id int64) int64 { return phase.Slot(id, time.Minute) }

type slotted struct{ id, slot int64 }

// statusSlots are the slots of the statuses there are, in slot order.
func statusSlots(ctx context.Context, tx *sql.Tx) ([]slotted, error) {
	rows, err := tx.QueryContext(ctx, `SELECT monitor_id FROM monitor_status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []slotted
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, slotted{id, slotOf(id)})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b slotted) int { return cmp.Compare(a.slot, b.slot) })
	return out, nil
}

// statusColumns are monitor_status's columns but the key(s), as 00017
// left them.
const statusColumns = `state TEXT NOT NULL, status TEXT NOT NULL, last_result TEXT, last_ms INTEGER NOT NULL,
	version INTEGER NOT NULL DEFAULT 0, recent BLOB`

const firingIndex = `CREATE INDEX monitor_status_firing ON monitor_status(state) WHERE state IN ('down', 'lost', 'warn')`

func execAll(ctx context.Context, tx *sql.Tx, qs ...string) error {
	for _, q := range qs {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// slotArrays are slots' monitor ids and slots, as two arrays, for
// PostgreSQL's unnest.
func slotArrays(slots []slotted) (ids, ss []int64) {
	ids, ss = make([]int64, len(slots)), make([]int64, len(slots))
	for i, s := range slots {
		ids[i], ss[i] = s.id, s.slot
	}
	return ids, ss
}

// eachSlot runs q (its arguments a slot and its monitor's id) for each
// of slots, in order.
func eachSlot(ctx context.Context, tx *sql.Tx, q string, slots []slotted) error {
	st, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, s := range slots {
		if _, err := st.ExecContext(ctx, s.slot, s.id); err != nil {
			return err
		}
	}
	return nil
}

func slotsUp(dialect goose.Dialect) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		slots, err := statusSlots(ctx, tx)
		if err != nil {
			return err
		}
		if dialect == goose.DialectPostgres {
			if err := execAll(ctx, tx, `ALTER TABLE monitor_status ADD COLUMN slot bigint`); err != nil {
				return err
			}
			// One statement, the slots as two arrays: a statement a status
			// took 7.7 s at 100,000 (BenchmarkUpgradeSlots).
			ids, ss := slotArrays(slots)
			if _, err := tx.ExecContext(ctx, `UPDATE monitor_status s SET slot = u.slot
				FROM unnest($1::bigint[], $2::bigint[]) AS u(id, slot) WHERE s.monitor_id = u.id`, ids, ss); err != nil {
				return err
			}
			return execAll(ctx, tx, `ALTER TABLE monitor_status ALTER COLUMN slot SET NOT NULL`)
		}
		// A new table, filled in slot order (each row appended), in
		// place of the old. A statement a status, prepared once: in
		// process, with no round trip, it costs what one statement with
		// the slots as a JSON array (json_each) did at 100,000
		// (BenchmarkUpgradeSlots, 1.9 s either way), so it stays.
		if err := execAll(ctx, tx, `CREATE TABLE monitor_status_slotted (
			slot       INTEGER PRIMARY KEY,
			monitor_id INTEGER NOT NULL UNIQUE REFERENCES monitors(id) ON DELETE CASCADE,
			`+statusColumns+`)`); err != nil {
			return err
		}
		if err := eachSlot(ctx, tx, `INSERT INTO monitor_status_slotted(slot, monitor_id, state, status, last_result, last_ms, version, recent)
			SELECT ?, monitor_id, state, status, last_result, last_ms, version, recent FROM monitor_status WHERE monitor_id=?`, slots); err != nil {
			return err
		}
		return execAll(ctx, tx, `DROP TABLE monitor_status`, `ALTER TABLE monitor_status_slotted RENAME TO monitor_status`, firingIndex)
	}
}

func slotsDown(dialect goose.Dialect) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		if dialect == goose.DialectPostgres {
			return execAll(ctx, tx, `ALTER TABLE monitor_status DROP COLUMN slot`)
		}
		return execAll(ctx, tx, `CREATE TABLE monitor_status_byid (
			monitor_id INTEGER PRIMARY KEY REFERENCES monitors(id) ON DELETE CASCADE,
			`+statusColumns+`)`,
			`INSERT INTO monitor_status_byid SELECT monitor_id, state, status, last_result, last_ms, version, recent FROM monitor_status ORDER BY monitor_id`,
			`DROP TABLE monitor_status`, `ALTER TABLE monitor_status_byid RENAME TO monitor_status`, firingIndex)
	}
}
