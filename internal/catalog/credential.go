package catalog

import (
	"context"
	"encoding/json"

	"golang.org/x/crypto/ssh"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// Credential is a credential to save; Password and Key (PEM) are
// write-only (nil or "": keep), and one of them is kept: giving one drops
// the other.
type Credential struct {
	Name, User, KnownHost string
	Password, Key         *string
}

// SaveCredential creates (id 0) or replaces a credential. The monitors
// whose recoveries use it, by its old or new name, are to be reloaded
// (Result.ReloadCredentials): the engine holds it opened.
func (c *Catalog) SaveCredential(ctx context.Context, o Origin, id int64, in Credential) (*store.Credential, Result, error) {
	if err := o.Actor.mayWrite("credential"); err != nil {
		return nil, Result{}, err
	}
	cc := config.Credential{Name: in.Name, User: in.User, KnownHost: in.KnownHost}
	if o.fromNetwork() {
		if err := keepOperatorFields(ctx, id, &cc, c.credentialSpec); err != nil {
			return nil, Result{}, err
		}
	}
	f := config.File{Credentials: []config.Credential{cc}}
	if err := fields(f.Validate(), "credentials[0]."); err != nil {
		return nil, Result{}, err
	}
	if sent(in.Key) {
		if _, err := ssh.ParsePrivateKey([]byte(*in.Key)); err != nil {
			return nil, Result{}, FieldErrors{{Path: "key", Msg: "is not an unencrypted PEM private key: " + err.Error()}}
		}
	}
	if id == 0 && !sent(in.Password) && !sent(in.Key) {
		return nil, Result{}, FieldErrors{{Path: "password", Msg: "a password or a key is required"}}
	}
	spec, err := json.Marshal(cc)
	if err != nil {
		return nil, Result{}, err
	}
	var cr *store.Credential
	var dropped []string
	oldName := cc.Name
	var ch Change
	err = c.batch(ctx, func(tx store.Config) error {
		var before snapshot
		cr = &store.Credential{ID: id, Name: cc.Name, Spec: spec, Secrets: map[string]string{}}
		dropped = nil
		if id != 0 {
			old, err := tx.Credential(ctx, id)
			if err != nil {
				return err
			}
			before = snap(old.Spec, old.Secrets, nil)
			cr.Secrets, oldName = old.Secrets, old.Name
			if o.fromNetwork() {
				if dropped, err = unbindCredential(old, cc, in); err != nil {
					return err
				}
			}
		} else if err := tx.PutCredential(ctx, cr); err != nil { // its ID first: secrets are sealed under it
			return err
		}
		clear := secrets{}
		switch { // one of them is kept: the key, when both are sent
		case sent(in.Key):
			clear["key"] = *in.Key
		case sent(in.Password):
			clear["password"] = *in.Password
		}
		replaceKind(cr.Secrets, clear)
		if _, err := seal(c.Vault, cr.Secrets, clear, func(n string) string { return vault.CredentialRecord(cr.ID, n) }); err != nil {
			return err
		}
		if err := tx.PutCredential(ctx, cr); err != nil {
			return err
		}
		ch = Change{Kind: "credential", Name: cr.Name, Action: action(id), ID: cr.ID}
		return audit(ctx, tx, o, ch, before, snap(cr.Spec, cr.Secrets, nil))
	})
	if err != nil {
		return nil, Result{}, err
	}
	res := Result{Changes: []Change{ch},
		ReloadCredentials: []string{oldName, cr.Name}}
	if len(dropped) > 0 {
		res.Dropped = []Drop{{Kind: "credential", ID: cr.ID, Name: cr.Name, Secrets: dropped}}
	}
	return cr, res, nil
}

// replaceKind removes from sealed the kind of secret (password or key)
// that clear does not give when it gives the other: a credential holds
// one. It says whether it removed one.
func replaceKind(sealed map[string]string, clear secrets) bool {
	removed := false
	for given, other := range map[string]string{"password": "key", "key": "password"} {
		if _, ok := clear[given]; ok {
			if _, had := sealed[other]; had {
				delete(sealed, other)
				removed = true
			}
		}
	}
	return removed
}

// DeleteCredential deletes a credential; the monitors whose recoveries
// used it are to be reloaded (their recoveries over SSH now say it is
// missing).
func (c *Catalog) DeleteCredential(ctx context.Context, o Origin, id int64) (Result, error) {
	if err := o.Actor.mayWrite("credential"); err != nil {
		return Result{}, err
	}
	var ch Change
	err := c.batch(ctx, func(tx store.Config) error {
		cr, err := tx.Credential(ctx, id)
		if err != nil {
			return err
		}
		ch = Change{Kind: "credential", Name: cr.Name, Action: "deleted", ID: id}
		if err := audit(ctx, tx, o, ch, snap(cr.Spec, cr.Secrets, nil), snapshot{}); err != nil {
			return err
		}
		return tx.DeleteCredential(ctx, id)
	})
	if err != nil {
		return Result{}, err
	}
	return Result{Changes: []Change{ch}, ReloadCredentials: []string{ch.Name}}, nil
}
