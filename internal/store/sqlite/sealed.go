package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/mailmon/mailmon/internal/store"
)

func (s *Store) Meta(ctx context.Context, name string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE name=?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

func (s *Store) SetMeta(ctx context.Context, name, old, value string) (bool, error) {
	var res sql.Result
	var err error
	if old == "" {
		res, err = s.w.ExecContext(ctx, `INSERT INTO meta(name, value) VALUES(?,?) ON CONFLICT(name) DO NOTHING`, name, value)
	} else {
		res, err = s.w.ExecContext(ctx, `UPDATE meta SET value=? WHERE name=? AND value=?`, value, name, old)
	}
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// querier is what Sealed and Reseal read through: the readers, or the
// writer's transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func secretsRows(ctx context.Context, q querier) ([]store.SecretsRow, string, error) {
	var out []store.SecretsRow
	for _, t := range store.SecretTables {
		rows, err := q.QueryContext(ctx, `SELECT id, secrets FROM `+t.Table+` ORDER BY id`)
		if err != nil {
			return nil, "", err
		}
		rs, err := store.ScanSecretsRows(t.Kind, rows.Next, rows.Scan)
		rows.Close()
		if err = errors.Join(err, rows.Err()); err != nil {
			return nil, "", err
		}
		out = append(out, rs...)
	}
	var kc string
	err := q.QueryRowContext(ctx, `SELECT value FROM meta WHERE name=?`, store.MetaKeyCheck).Scan(&kc)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, "", err
	}
	return out, kc, nil
}

func (s *Store) Sealed(ctx context.Context) ([]store.Sealed, error) {
	rows, kc, err := secretsRows(ctx, s.r)
	if err != nil {
		return nil, err
	}
	return store.SealedOf(rows, kc)
}

// Reseal runs in one immediate transaction of the writer: no other write
// comes in between the read and the write.
func (s *Store) Reseal(ctx context.Context, fn func(store.Sealed) (string, error), set map[string]string) error {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	rows, kc, err := secretsRows(ctx, tx)
	if err != nil {
		return err
	}
	changed, meta, err := store.ResealRows(rows, kc, fn, set)
	if err != nil {
		return err
	}
	for _, r := range changed {
		// updated_ms stays: the settings did not change.
		if _, err := tx.ExecContext(ctx, `UPDATE `+store.TableOf(r.Kind)+` SET secrets=? WHERE id=?`, r.Secrets, r.ID); err != nil {
			return err
		}
	}
	for name, v := range meta {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta(name, value) VALUES(?,?) ON CONFLICT(name) DO UPDATE SET value=excluded.value`, name, v); err != nil {
			return err
		}
	}
	return tx.Commit()
}
