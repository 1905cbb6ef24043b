package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

func (s *Store) PutUser(ctx context.Context, u *store.User) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	if u.ID == 0 {
		res, err := s.w.ExecContext(ctx, `INSERT INTO users(name, hash, created_ms, updated_ms) VALUES(?,?,?,?)`, u.Name, u.Hash, ms(now), ms(now))
		if err != nil {
			return conflict(err)
		}
		u.ID, _ = res.LastInsertId()
		u.Created, u.Updated = now, now
		return nil
	}
	if err := affected(s.w.ExecContext(ctx, `UPDATE users SET name=?, hash=?, updated_ms=? WHERE id=?`, u.Name, u.Hash, ms(now), u.ID)); err != nil {
		return conflict(err)
	}
	u.Updated = now
	return nil
}

const userCols = `id, name, hash, created_ms, updated_ms`

func scanUser(sc interface{ Scan(...any) error }) (*store.User, error) {
	var u store.User
	var c, up int64
	if err := sc.Scan(&u.ID, &u.Name, &u.Hash, &c, &up); err != nil {
		return nil, notFound(err)
	}
	u.Created, u.Updated = fromMS(c), fromMS(up)
	return &u, nil
}

func (s *Store) User(ctx context.Context, id int64) (*store.User, error) {
	return scanUser(s.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id=?`, id))
}

func (s *Store) UserByName(ctx context.Context, name string) (*store.User, error) {
	return scanUser(s.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE name=?`, name))
}

func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *u)
	}
	return out, rows.Err()
}

func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id=?`, id); err != nil {
			return err
		}
		return affected(tx.ExecContext(ctx, `DELETE FROM users WHERE id=?`, id))
	})
}

func (s *Store) PutSession(ctx context.Context, se *store.Session) error {
	if se.Created.IsZero() {
		se.Created = time.Now()
	}
	if se.Seen.IsZero() {
		se.Seen = se.Created
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO sessions(hash, user_id, csrf, created_ms, seen_ms) VALUES(?,?,?,?,?)`,
		se.Hash, se.UserID, se.CSRF, ms(se.Created), ms(se.Seen))
	if err != nil && strings.Contains(err.Error(), "FOREIGN KEY") {
		return store.ErrNotFound
	}
	return conflict(err)
}

func (s *Store) SessionByHash(ctx context.Context, hash string) (*store.Session, error) {
	var se store.Session
	var c, seen int64
	err := s.r.QueryRowContext(ctx, `SELECT hash, user_id, csrf, created_ms, seen_ms FROM sessions WHERE hash=?`, hash).
		Scan(&se.Hash, &se.UserID, &se.CSRF, &c, &seen)
	if err != nil {
		return nil, notFound(err)
	}
	se.Created, se.Seen = fromMS(c), fromMS(seen)
	return &se, nil
}

func (s *Store) TouchSession(ctx context.Context, hash string, at time.Time) error {
	return affected(s.w.ExecContext(ctx, `UPDATE sessions SET seen_ms=? WHERE hash=?`, ms(at), hash))
}

func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	return affected(s.w.ExecContext(ctx, `DELETE FROM sessions WHERE hash=?`, hash))
}

func (s *Store) DeleteSessions(ctx context.Context, userID int64, keep string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE user_id=? AND hash<>?`, userID, keep)
	return err
}

func (s *Store) PruneSessions(ctx context.Context, idle, absolute time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE seen_ms<? OR created_ms<?`, ms(idle), ms(absolute))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
