package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/mailmon/mailmon/internal/store"
)

func (s *Store) Meta(ctx context.Context, name string) (string, error) {
	return meta(ctx, s.r, name, "")
}

// meta reads a meta value ("" when none is stored); forUpdate locks its
// row until the transaction ends.
func meta(ctx context.Context, c Conn, name, forUpdate string) (string, error) {
	var v string
	err := c.QueryRow(ctx, `SELECT value FROM meta WHERE name=?`+forUpdate, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

func (s *Store) SetMeta(ctx context.Context, name, old, value string) (bool, error) {
	q, args := `INSERT INTO meta(name, value) VALUES(?,?) ON CONFLICT(name) DO NOTHING`, []any{name, value}
	if old != "" {
		q, args = `UPDATE meta SET value=? WHERE name=? AND value=?`, []any{value, name, old}
	}
	n, err := s.w.Exec(ctx, q, args...)
	return n == 1, err
}

// secretsRows reads every secrets column and the verifier; forUpdate
// locks the rows until the transaction ends.
func secretsRows(ctx context.Context, c Conn, forUpdate string) ([]store.SecretsRow, string, error) {
	var out []store.SecretsRow
	for _, t := range store.SecretTables {
		rows, err := c.Query(ctx, `SELECT id, secrets FROM `+t.Table+` ORDER BY id`+forUpdate)
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
	kc, err := meta(ctx, c, store.MetaKeyCheck, forUpdate)
	return out, kc, err
}

func (s *Store) Sealed(ctx context.Context) ([]store.Sealed, error) {
	rows, kc, err := secretsRows(ctx, s.r, "")
	if err != nil {
		return nil, err
	}
	return store.SealedOf(rows, kc)
}

// Reseal reads and writes in one transaction whose rows no other writer
// changes in between (SQLite's write transaction shuts out the others;
// PostgreSQL's locks every row that holds secrets, FOR UPDATE): a node
// saving a secret meanwhile waits, and then writes under the key it has.
func (s *Store) Reseal(ctx context.Context, fn func(store.Sealed) (string, error), set map[string]string) error {
	return s.tx(ctx, func(tx Conn) error {
		rows, kc, err := secretsRows(ctx, tx, s.d.ForUpdate)
		if err != nil {
			return err
		}
		changed, meta, err := store.ResealRows(rows, kc, fn, set)
		if err != nil {
			return err
		}
		for _, r := range changed {
			// updated_ms stays: the settings did not change.
			if _, err := tx.Exec(ctx, `UPDATE `+store.TableOf(r.Kind)+` SET secrets=? WHERE id=?`, r.Secrets, r.ID); err != nil {
				return err
			}
		}
		for name, v := range meta {
			if _, err := tx.Exec(ctx, `INSERT INTO meta(name, value) VALUES(?,?) ON CONFLICT(name) DO UPDATE SET value=excluded.value`, name, v); err != nil {
				return err
			}
		}
		return nil
	})
}
