package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mailmon/mailmon/internal/store"
)

func (s *Store) PutCredential(ctx context.Context, c *store.Credential) error {
	t := now()
	if c.ID == 0 {
		err := s.w.QueryRow(ctx, `INSERT INTO credentials(name, spec, secrets, created_ms, updated_ms) VALUES(?,?,?,?,?) RETURNING id`,
			c.Name, specJSON(c.Spec), secretsJSON(c.Secrets), ms(t), ms(t)).Scan(&c.ID)
		if err != nil {
			return s.conflict(err)
		}
		c.Created, c.Updated = t, t
		return nil
	}
	c.Updated = t
	return s.conflict(affected(s.w.Exec(ctx, `UPDATE credentials SET name=?, spec=?, secrets=?, updated_ms=? WHERE id=?`,
		c.Name, specJSON(c.Spec), secretsJSON(c.Secrets), ms(t), c.ID)))
}

var credentials = named[store.Credential]{"credentials", `id, name, spec, secrets, created_ms, updated_ms`, scanCredential}

func scanCredential(sc Row) (store.Credential, error) {
	var c store.Credential
	var spec, secrets string
	var cr, up int64
	if err := sc.Scan(&c.ID, &c.Name, &spec, &secrets, &cr, &up); err != nil {
		return c, notFound(err)
	}
	c.Spec = json.RawMessage(spec)
	if err := json.Unmarshal([]byte(secrets), &c.Secrets); err != nil {
		return c, fmt.Errorf("credential %d secrets: %w", c.ID, err)
	}
	c.Created, c.Updated = fromMS(cr), fromMS(up)
	return c, nil
}

func (s *Store) Credential(ctx context.Context, id int64) (*store.Credential, error) {
	return credentials.get(ctx, s.r, "id", id)
}

func (s *Store) CredentialByName(ctx context.Context, name string) (*store.Credential, error) {
	return credentials.get(ctx, s.r, "name", name)
}

func (s *Store) Credentials(ctx context.Context, p store.Page) ([]store.Credential, int, error) {
	return credentials.page(ctx, s.r, p)
}

func (s *Store) DeleteCredential(ctx context.Context, id int64) error {
	return credentials.delete(ctx, s.w, id)
}
