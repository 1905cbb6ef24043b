package sqlstore

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// ---- users

func (s *Store) PutUser(ctx context.Context, u *store.User) error {
	t := now()
	if u.ID == 0 {
		if err := s.w.QueryRow(ctx, `INSERT INTO users(name, hash, role, secrets, totp_step, recovery_codes, external, created_ms, updated_ms)
			VALUES(?,?,?,?,?,?,?,?,?) RETURNING id`,
			u.Name, u.Hash, u.Role, userSecrets(u), u.TOTPStep, strings.Join(u.RecoveryCodes, ","), u.External, ms(t), ms(t)).Scan(&u.ID); err != nil {
			return s.conflict(err)
		}
		u.Created, u.Updated = t, t
		return nil
	}
	if err := s.conflict(affected(s.w.Exec(ctx, `UPDATE users SET name=?, hash=?, role=?, secrets=?, totp_step=?, recovery_codes=?, external=?, updated_ms=? WHERE id=?`,
		u.Name, u.Hash, u.Role, userSecrets(u), u.TOTPStep, strings.Join(u.RecoveryCodes, ","), u.External, ms(t), u.ID))); err != nil {
		return err
	}
	u.Updated = t
	return nil
}

var users = named[store.User]{"users", `id, name, hash, role, secrets, totp_step, recovery_codes, external, created_ms, updated_ms`, scanUser}

func scanUser(sc Row) (store.User, error) {
	var u store.User
	var c, up int64
	var codes string
	var secrets string
	if err := sc.Scan(&u.ID, &u.Name, &u.Hash, &u.Role, &secrets, &u.TOTPStep, &codes, &u.External, &c, &up); err != nil {
		return u, notFound(err)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(secrets), &m); err != nil {
		return u, err
	}
	u.TOTPSecret = m["totp"]
	u.RecoveryCodes = splitList(codes)
	u.Created, u.Updated = fromMS(c), fromMS(up)
	return u, nil
}

// userSecrets is a user's secrets column: its sealed TOTP secret, kept
// as the other tables' secrets so that a key rotation reseals it.
func userSecrets(u *store.User) string {
	if u.TOTPSecret == "" {
		return "{}"
	}
	return secretsJSON(map[string]string{"totp": u.TOTPSecret})
}

// splitList is a comma-separated column as a list ("": none).
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func (s *Store) UseTOTPStep(ctx context.Context, userID, step int64) (bool, error) {
	n, err := s.w.Exec(ctx, `UPDATE users SET totp_step=? WHERE id=? AND totp_step<?`, step, userID, step)
	return n == 1, err
}

func (s *Store) User(ctx context.Context, id int64) (*store.User, error) {
	return users.get(ctx, s.r, "id", id)
}

func (s *Store) UserByName(ctx context.Context, name string) (*store.User, error) {
	return users.get(ctx, s.r, "name", name)
}

func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	return users.all(ctx, s.r)
}

func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	return s.tx(ctx, func(tx Conn) error {
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id=?`, id); err != nil {
			return err
		}
		return users.delete(ctx, tx, id)
	})
}

// ---- sessions

func (s *Store) PutSession(ctx context.Context, se *store.Session) error {
	if se.Created.IsZero() {
		se.Created = time.Now()
	}
	if se.Seen.IsZero() {
		se.Seen = se.Created
	}
	_, err := s.w.Exec(ctx, `INSERT INTO sessions(hash, user_id, csrf, created_ms, seen_ms) VALUES(?,?,?,?,?)`,
		se.Hash, se.UserID, se.CSRF, ms(se.Created), ms(se.Seen))
	return s.conflict(s.missing(err))
}

func (s *Store) SessionByHash(ctx context.Context, hash string) (*store.Session, error) {
	var se store.Session
	var c, seen int64
	err := s.r.QueryRow(ctx, `SELECT hash, user_id, csrf, created_ms, seen_ms FROM sessions WHERE hash=?`, hash).
		Scan(&se.Hash, &se.UserID, &se.CSRF, &c, &seen)
	if err != nil {
		return nil, notFound(err)
	}
	se.Created, se.Seen = fromMS(c), fromMS(seen)
	return &se, nil
}

func (s *Store) TouchSession(ctx context.Context, hash string, at time.Time) error {
	return affected(s.w.Exec(ctx, `UPDATE sessions SET seen_ms=? WHERE hash=?`, ms(at), hash))
}

func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	return affected(s.w.Exec(ctx, `DELETE FROM sessions WHERE hash=?`, hash))
}

func (s *Store) DeleteSessions(ctx context.Context, userID int64, keep string) error {
	_, err := s.w.Exec(ctx, `DELETE FROM sessions WHERE user_id=? AND hash<>?`, userID, keep)
	return err
}

func (s *Store) PruneSessions(ctx context.Context, idle, absolute time.Time) (int64, error) {
	return s.w.Exec(ctx, `DELETE FROM sessions WHERE seen_ms<? OR created_ms<?`, ms(idle), ms(absolute))
}

// ---- tokens

func (s *Store) PutToken(ctx context.Context, t *store.Token) error {
	n := now()
	var exp *int64
	if !t.Expires.IsZero() {
		e := ms(t.Expires)
		exp = &e
	}
	if err := s.w.QueryRow(ctx, `INSERT INTO tokens(name, hash, scopes, created_ms, expires_ms) VALUES(?,?,?,?,?) RETURNING id`,
		t.Name, t.Hash, strings.Join(t.Scopes, ","), ms(n), exp).Scan(&t.ID); err != nil {
		return s.conflict(err)
	}
	t.Created = n
	return nil
}

var tokens = named[store.Token]{"tokens", `id, name, hash, scopes, created_ms, used_ms, expires_ms`, scanToken}

func scanToken(sc Row) (store.Token, error) {
	var t store.Token
	var c int64
	var u, e *int64
	var scopes string
	if err := sc.Scan(&t.ID, &t.Name, &t.Hash, &scopes, &c, &u, &e); err != nil {
		return t, notFound(err)
	}
	t.Scopes = splitList(scopes)
	t.Created, t.Used, t.Expires = fromMS(c), nullMS(u), nullMS(e)
	return t, nil
}

func (s *Store) TokenByHash(ctx context.Context, hash string) (*store.Token, error) {
	return tokens.get(ctx, s.r, "hash", hash)
}

func (s *Store) Tokens(ctx context.Context) ([]store.Token, error) {
	return tokens.all(ctx, s.r)
}

func (s *Store) DeleteToken(ctx context.Context, id int64) error { return tokens.delete(ctx, s.w, id) }

func (s *Store) TouchToken(ctx context.Context, id int64, at time.Time) error {
	return affected(s.w.Exec(ctx, `UPDATE tokens SET used_ms=? WHERE id=?`, ms(at), id))
}
