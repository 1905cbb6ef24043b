package catalog

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
)

// Users and tokens are written here too, by an admin (or the operator on
// the host), each change with its audit entry in one transaction. A user
// may change their own password and second factor, never their role.

// mayManage says whether o may change users and tokens (or, self, only
// the user's own login, role unchanged).
func (o Origin) mayManage(self bool) error {
	switch a := o.Actor; {
	case a.Kind == "operator":
		return nil
	case a.Kind == "user" && (a.Role.Allows(Admin) || self):
		return nil
	case a.Kind == "user":
		return Forbidden{fmt.Sprintf("managing users and tokens needs the admin role; %s is %s", a.Name, a.Role)}
	}
	return Forbidden{"users and tokens are managed in the web UI by an admin, or with mailmon user and mailmon token on the host"}
}

func userSnap(u *store.User) snapshot {
	if u == nil {
		return snapshot{}
	}
	twoFactor := "off"
	if u.TOTPSecret != "" {
		twoFactor = "on"
	}
	secrets := map[string]string{"password": u.Hash}
	if u.Hash == "" {
		secrets = nil
	}
	return snap(nil, secrets, map[string]string{"name": u.Name, "role": u.Role, "two_factor": twoFactor, "single_sign_on": u.External})
}

// PutUser creates (ID 0) or updates a user. Only an admin creates users or
// changes roles; a user may update their own login.
func (c *Catalog) PutUser(ctx context.Context, o Origin, u *store.User) error {
	return c.batch(ctx, func(tx store.Config) error {
		var old *store.User
		if u.ID != 0 {
			var err error
			if old, err = tx.User(ctx, u.ID); err != nil {
				return err
			}
		}
		self := old != nil && o.Actor.Kind == "user" && o.Actor.Name == old.Name && old.Name == u.Name && old.Role == u.Role
		if err := o.mayManage(self); err != nil {
			return err
		}
		id := u.ID
		if err := tx.PutUser(ctx, u); err != nil {
			return err
		}
		return audit(ctx, tx, o, Change{Kind: "user", Name: u.Name, Action: action(id), ID: u.ID}, userSnap(old), userSnap(u))
	})
}

// DeleteUser deletes a user and ends their sessions.
func (c *Catalog) DeleteUser(ctx context.Context, o Origin, id int64) error {
	if err := o.mayManage(false); err != nil {
		return err
	}
	return c.batch(ctx, func(tx store.Config) error {
		u, err := tx.User(ctx, id)
		if err != nil {
			return err
		}
		if err := audit(ctx, tx, o, Change{Kind: "user", Name: u.Name, Action: "deleted", ID: id}, userSnap(u), snapshot{}); err != nil {
			return err
		}
		return tx.DeleteUser(ctx, id)
	})
}

// HashToken is how a token is stored: its SHA-256 (TokenSum) in hex.
func HashToken(tok string) string { return SumHash(TokenSum(tok)) }

// SumHash is the stored form of a token's TokenSum.
func SumHash(sum [sha256.Size]byte) string { return hex.EncodeToString(sum[:]) }

// TokenSum is a token's SHA-256, the key the API's cache of checked
// tokens keeps without making a string per request. The token is copied
// to the stack (a []byte conversion stays there only up to 32 bytes; a
// token is 67).
func TokenSum(tok string) [sha256.Size]byte {
	var b [128]byte
	return sha256.Sum256(append(b[:0], tok...))
}

// NewToken makes a new random token.
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return "mm_" + hex.EncodeToString(b)
}

func tokenSnap(t *store.Token) snapshot {
	exp := "never"
	if !t.Expires.IsZero() {
		exp = t.Expires.UTC().Format(time.RFC3339)
	}
	return snap(nil, nil, map[string]string{"name": t.Name, "scopes": fmt.Sprint(t.Scopes), "expires": exp})
}

// CreateToken makes an API token with scopes, expiring at expires (zero:
// never), and returns it: it is shown once, only its hash is kept.
func (c *Catalog) CreateToken(ctx context.Context, o Origin, name string, scopes Scopes, expires time.Time) (string, *store.Token, error) {
	if err := o.mayManage(false); err != nil {
		return "", nil, err
	}
	if err := config.CheckName(name); err != nil {
		return "", nil, FieldErrors{{Path: "name", Msg: err.Error()}}
	}
	if scopes == 0 {
		return "", nil, FieldErrors{{Path: "scope", Msg: "give one or more of read, write, probe, metrics"}}
	}
	secret := NewToken()
	t := &store.Token{Name: name, Hash: HashToken(secret), Scopes: scopes.Names(), Expires: expires}
	err := c.batch(ctx, func(tx store.Config) error {
		if err := tx.PutToken(ctx, t); err != nil {
			return err
		}
		return audit(ctx, tx, o, Change{Kind: "token", Name: name, Action: "created", ID: t.ID}, snapshot{}, tokenSnap(t))
	})
	if errors.Is(err, store.ErrConflict) {
		return "", nil, FieldErrors{{Path: "name", Msg: fmt.Sprintf("a token is named %q already", name)}}
	}
	return secret, t, err
}

// DeleteToken revokes a token (the API's cache forgets it within seconds).
func (c *Catalog) DeleteToken(ctx context.Context, o Origin, id int64) error {
	if err := o.mayManage(false); err != nil {
		return err
	}
	return c.batch(ctx, func(tx store.Config) error {
		ts, err := tx.Tokens(ctx)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if t.ID == id {
				if err := audit(ctx, tx, o, Change{Kind: "token", Name: t.Name, Action: "deleted", ID: id}, tokenSnap(&t), snapshot{}); err != nil {
					return err
				}
				return tx.DeleteToken(ctx, id)
			}
		}
		return store.ErrNotFound
	})
}
