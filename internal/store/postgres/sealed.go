package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/mailmon/mailmon/internal/store"
)

func (s *Store) Meta(ctx context.Context, name string) (string, error) {
	var v string
	err := s.row(ctx, `SELECT value FROM meta WHERE name=?`, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return v, err
}

func (s *Store) SetMeta(ctx context.Context, name, old, value string) (bool, error) {
	sql, args := `INSERT INTO meta(name, value) VALUES(?,?) ON CONFLICT(name) DO NOTHING`, []any{name, value}
	if old != "" {
		sql, args = `UPDATE meta SET value=? WHERE name=? AND value=?`, []any{value, name, old}
	}
	tag, err := s.exec(ctx, sql, args...)
	return tag.RowsAffected() == 1, err
}

// querier is what Sealed and Reseal read through: the pool or a
// transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// secretsRows reads every secrets column and the verifier; forUpdate locks
// the rows until the transaction ends.
func secretsRows(ctx context.Context, db querier, forUpdate string) ([]store.SecretsRow, string, error) {
	var out []store.SecretsRow
	for _, t := range store.SecretTables {
		rows, err := db.Query(ctx, `SELECT id, secrets FROM `+t.Table+` ORDER BY id`+forUpdate)
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
	err := db.QueryRow(ctx, q(`SELECT value FROM meta WHERE name=?`+forUpdate), store.MetaKeyCheck).Scan(&kc)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, "", err
	}
	return out, kc, nil
}

func (s *Store) Sealed(ctx context.Context) ([]store.Sealed, error) {
	rows, kc, err := secretsRows(ctx, s.p, "")
	if err != nil {
		return nil, err
	}
	return store.SealedOf(rows, kc)
}

// Reseal locks every row that holds secrets (FOR UPDATE) in one
// transaction: a node saving a secret meanwhile waits, and then writes
// under the key it has.
func (s *Store) Reseal(ctx context.Context, fn func(store.Sealed) (string, error), set map[string]string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		rows, kc, err := secretsRows(ctx, tx, " FOR UPDATE")
		if err != nil {
			return err
		}
		changed, meta, err := store.ResealRows(rows, kc, fn, set)
		if err != nil {
			return err
		}
		for _, r := range changed {
			// updated_ms stays: the settings did not change.
			if _, err := txExec(ctx, tx, `UPDATE `+store.TableOf(r.Kind)+` SET secrets=? WHERE id=?`, r.Secrets, r.ID); err != nil {
				return err
			}
		}
		for name, v := range meta {
			if _, err := txExec(ctx, tx, `INSERT INTO meta(name, value) VALUES(?,?) ON CONFLICT(name) DO UPDATE SET value=excluded.value`, name, v); err != nil {
				return err
			}
		}
		return nil
	})
}
