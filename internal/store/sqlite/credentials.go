package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

func (s *Store) PutCredential(ctx context.Context, c *store.Credential) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	if c.ID == 0 {
		res, err := s.w.ExecContext(ctx, `INSERT INTO credentials(name, spec, secrets, created_ms, updated_ms) VALUES(?,?,?,?,?)`,
			c.Name, specJSON(c.Spec), secretsJSON(c.Secrets), ms(now), ms(now))
		if err != nil {
			return conflict(err)
		}
		c.ID, _ = res.LastInsertId()
		c.Created, c.Updated = now, now
		return nil
	}
	c.Updated = now
	return conflict(affected(s.w.ExecContext(ctx, `UPDATE credentials SET name=?, spec=?, secrets=?, updated_ms=? WHERE id=?`,
		c.Name, specJSON(c.Spec), secretsJSON(c.Secrets), ms(now), c.ID)))
}

const credentialCols = `id, name, spec, secrets, created_ms, updated_ms`

func scanCredential(sc interface{ Scan(...any) error }) (*store.Credential, error) {
	var c store.Credential
	var spec, secrets string
	var cr, up int64
	if err := sc.Scan(&c.ID, &c.Name, &spec, &secrets, &cr, &up); err != nil {
		return nil, notFound(err)
	}
	c.Spec = json.RawMessage(spec)
	if err := json.Unmarshal([]byte(secrets), &c.Secrets); err != nil {
		return nil, fmt.Errorf("credential %d secrets: %w", c.ID, err)
	}
	c.Created, c.Updated = fromMS(cr), fromMS(up)
	return &c, nil
}

func (s *Store) Credential(ctx context.Context, id int64) (*store.Credential, error) {
	return scanCredential(s.r.QueryRowContext(ctx, `SELECT `+credentialCols+` FROM credentials WHERE id=?`, id))
}

func (s *Store) CredentialByName(ctx context.Context, name string) (*store.Credential, error) {
	return scanCredential(s.r.QueryRowContext(ctx, `SELECT `+credentialCols+` FROM credentials WHERE name=?`, name))
}

func (s *Store) Credentials(ctx context.Context, p store.Page) ([]store.Credential, int, error) {
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM credentials`).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+credentialCols+` FROM credentials ORDER BY name LIMIT ? OFFSET ?`, p.LimitOr(100), p.Offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []store.Credential
	for rows.Next() {
		c, err := scanCredential(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *c)
	}
	return out, total, rows.Err()
}

func (s *Store) DeleteCredential(ctx context.Context, id int64) error {
	return affected(s.w.ExecContext(ctx, `DELETE FROM credentials WHERE id=?`, id))
}
