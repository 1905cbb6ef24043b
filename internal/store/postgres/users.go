package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mailmon/mailmon/internal/store"
)

func (s *Store) PutUser(ctx context.Context, u *store.User) error {
	t := now()
	if u.ID == 0 {
		if err := s.row(ctx, `INSERT INTO users(name, hash, created_ms, updated_ms) VALUES(?,?,?,?) RETURNING id`,
			u.Name, u.Hash, ms(t), ms(t)).Scan(&u.ID); err != nil {
			return conflict(err)
		}
		u.Created, u.Updated = t, t
		return nil
	}
	if err := conflict(affected(s.exec(ctx, `UPDATE users SET name=?, hash=?, updated_ms=? WHERE id=?`, u.Name, u.Hash, ms(t), u.ID))); err != nil {
		return err
	}
	u.Updated = t
	return nil
}

const userCols = `id, name, hash, created_ms, updated_ms`

func scanUser(sc pgx.Row) (*store.User, error) {
	var u store.User
	var c, up int64
	if err := sc.Scan(&u.ID, &u.Name, &u.Hash, &c, &up); err != nil {
		return nil, notFound(err)
	}
	u.Created, u.Updated = fromMS(c), fromMS(up)
	return &u, nil
}

func (s *Store) User(ctx context.Context, id int64) (*store.User, error) {
	return scanUser(s.row(ctx, `SELECT `+userCols+` FROM users WHERE id=?`, id))
}

func (s *Store) UserByName(ctx context.Context, name string) (*store.User, error) {
	return scanUser(s.row(ctx, `SELECT `+userCols+` FROM users WHERE name=?`, name))
}

func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	return list(ctx, s, func(r pgx.Rows) (*store.User, error) { return scanUser(r) }, `SELECT `+userCols+` FROM users ORDER BY name`)
}

func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := txExec(ctx, tx, `DELETE FROM sessions WHERE user_id=?`, id); err != nil {
			return err
		}
		return affected(txExec(ctx, tx, `DELETE FROM users WHERE id=?`, id))
	})
}

func (s *Store) PutSession(ctx context.Context, se *store.Session) error {
	if se.Created.IsZero() {
		se.Created = time.Now()
	}
	if se.Seen.IsZero() {
		se.Seen = se.Created
	}
	_, err := s.exec(ctx, `INSERT INTO sessions(hash, user_id, csrf, created_ms, seen_ms) VALUES(?,?,?,?,?)`,
		se.Hash, se.UserID, se.CSRF, ms(se.Created), ms(se.Seen))
	if pgCode(err) == "23503" {
		return store.ErrNotFound
	}
	return conflict(err)
}

func (s *Store) SessionByHash(ctx context.Context, hash string) (*store.Session, error) {
	var se store.Session
	var c, seen int64
	err := s.row(ctx, `SELECT hash, user_id, csrf, created_ms, seen_ms FROM sessions WHERE hash=?`, hash).
		Scan(&se.Hash, &se.UserID, &se.CSRF, &c, &seen)
	if err != nil {
		return nil, notFound(err)
	}
	se.Created, se.Seen = fromMS(c), fromMS(seen)
	return &se, nil
}

func (s *Store) TouchSession(ctx context.Context, hash string, at time.Time) error {
	return affected(s.exec(ctx, `UPDATE sessions SET seen_ms=? WHERE hash=?`, ms(at), hash))
}

func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	return affected(s.exec(ctx, `DELETE FROM sessions WHERE hash=?`, hash))
}

func (s *Store) DeleteSessions(ctx context.Context, userID int64, keep string) error {
	_, err := s.exec(ctx, `DELETE FROM sessions WHERE user_id=? AND hash<>?`, userID, keep)
	return err
}

func (s *Store) PruneSessions(ctx context.Context, idle, absolute time.Time) (int64, error) {
	tag, err := s.exec(ctx, `DELETE FROM sessions WHERE seen_ms<? OR created_ms<?`, ms(idle), ms(absolute))
	return tag.RowsAffected(), err
}
