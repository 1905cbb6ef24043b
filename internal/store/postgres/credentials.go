package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/wire"
)

func (s *Store) PutCredential(ctx context.Context, c *store.Credential) error {
	t := now()
	if c.ID == 0 {
		err := s.row(ctx, `INSERT INTO credentials(name, spec, secrets, created_ms, updated_ms) VALUES(?,?,?,?,?) RETURNING id`,
			c.Name, specJSON(c.Spec), secretsJSON(c.Secrets), ms(t), ms(t)).Scan(&c.ID)
		if err != nil {
			return conflict(err)
		}
		c.Created, c.Updated = t, t
		return nil
	}
	c.Updated = t
	return conflict(affected(s.exec(ctx, `UPDATE credentials SET name=?, spec=?, secrets=?, updated_ms=? WHERE id=?`,
		c.Name, specJSON(c.Spec), secretsJSON(c.Secrets), ms(t), c.ID)))
}

const credentialCols = `id, name, spec, secrets, created_ms, updated_ms`

func scanCredential(sc pgx.Row) (*store.Credential, error) {
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
	return scanCredential(s.row(ctx, `SELECT `+credentialCols+` FROM credentials WHERE id=?`, id))
}

func (s *Store) CredentialByName(ctx context.Context, name string) (*store.Credential, error) {
	return scanCredential(s.row(ctx, `SELECT `+credentialCols+` FROM credentials WHERE name=?`, name))
}

func (s *Store) Credentials(ctx context.Context, p store.Page) ([]store.Credential, int, error) {
	var total int
	if err := s.row(ctx, `SELECT count(*) FROM credentials`).Scan(&total); err != nil {
		return nil, 0, err
	}
	out, err := list(ctx, s, func(r pgx.Rows) (*store.Credential, error) { return scanCredential(r) },
		`SELECT `+credentialCols+` FROM credentials ORDER BY name LIMIT ? OFFSET ?`, p.LimitOr(100), p.Offset)
	return out, total, err
}

func (s *Store) DeleteCredential(ctx context.Context, id int64) error {
	return affected(s.exec(ctx, `DELETE FROM credentials WHERE id=?`, id))
}

// ---- recovery log

func (s *Store) RecordRecovery(ctx context.Context, r store.RecoveryRun) error {
	_, err := s.exec(ctx, `INSERT INTO recovery_log(monitor_id, t_ms, action, status, exit_code, output, duration_ms) VALUES(?,?,?,?,?,?,?)`,
		r.MonitorID, ms(r.Time), r.Action, r.Status, r.ExitCode, cleanOutput(r.Output), r.Duration.Milliseconds())
	return err
}

// cleanOutput keeps a program's output readable and bounded: valid UTF-8,
// no control characters but line breaks and tabs (PostgreSQL refuses NUL
// in text anyway), 4 KiB at most.
func cleanOutput(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = wire.Sanitize(l)
	}
	return wire.Truncate(strings.Join(lines, "\n"), 4096)
}

func (s *Store) Recoveries(ctx context.Context, monitorID int64, limit int) ([]store.RecoveryRun, error) {
	if limit <= 0 {
		limit = 100
	}
	return list(ctx, s, func(rows pgx.Rows) (*store.RecoveryRun, error) {
		r := store.RecoveryRun{MonitorID: monitorID}
		var t, d int64
		if err := rows.Scan(&t, &r.Action, &r.Status, &r.ExitCode, &r.Output, &d); err != nil {
			return nil, err
		}
		r.Time, r.Duration = fromMS(t), time.Duration(d)*time.Millisecond
		return &r, nil
	}, `SELECT t_ms, action, status, exit_code, output, duration_ms FROM recovery_log WHERE monitor_id=? ORDER BY id DESC LIMIT ?`, monitorID, limit)
}
