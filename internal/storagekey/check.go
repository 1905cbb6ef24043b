// Package storagekey looks after the storage key and the store's sealed
// values as a whole: the check that the key is the one they are sealed with (a verifier
// sealed under a fixed record), the upgrade that seals the webhook URLs an
// older mailmon kept in the clear, and the rotation of the key.
//
// Every command that opens secrets (serve, apply, export, key rotate) runs
// the check before it touches anything: a wrong key is refused with where
// it came from and what to do, rather than found out by every monitor
// going Warn ("secret does not decrypt") or by apply sealing some secrets
// under it.
package storagekey

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// Origin says where the storage key came from, for messages.
type Origin struct {
	Env     string // the environment variable that held it; "" for a file
	File    string // the key file
	Created bool   // the file was created just now
}

func (o Origin) String() string {
	switch {
	case o.Env != "":
		return "$" + o.Env
	case o.Created:
		return "the key file " + o.File + " (created just now)"
	}
	return "the key file " + o.File
}

// WrongKeyError is a key that does not open the store's secrets.
type WrongKeyError struct {
	Origin Origin
	Why    string // what did not open
	Hint   string // what to do
}

func (e *WrongKeyError) Error() string {
	return fmt.Sprintf("the storage key from %s is not the key this database's secrets are sealed with (%s); nothing was changed. %s",
		e.Origin, e.Why, e.Hint)
}

// checkRecord and checkText make the verifier: a known text sealed for a
// record no secret has.
var checkRecord = vault.Record("key", 0, "check")

const checkText = "mailmon storage key check"

func verifies(v *vault.Vault, kc string) bool {
	pt, err := v.Open(kc, checkRecord)
	return err == nil && string(pt) == checkText
}

// record is the vault record of a stored value.
func record(x store.Sealed) string { return vault.Record(x.Kind, x.ID, x.Name) }

// Check makes sure v is the key the store's secrets are sealed with. A
// store that has no verifier yet (made before there was one) gets one when
// write is set, once v opens at least one of its secrets (if it holds
// any). Warnings name stored secrets that v does not open although it
// opens others: sealed under another key by an older mailmon's apply.
func Check(ctx context.Context, st store.Store, v *vault.Vault, o Origin, write bool) (warnings []string, err error) {
	for {
		kc, err := st.Meta(ctx, store.MetaKeyCheck)
		if err != nil {
			return nil, err
		}
		if kc != "" {
			if verifies(v, kc) {
				return nil, nil
			}
			return nil, &WrongKeyError{Origin: o, Why: "its key check does not open", Hint: hint(ctx, st, kc, o)}
		}
		all, err := st.Sealed(ctx)
		if err != nil {
			return nil, err
		}
		var bad []string
		for _, x := range all {
			if _, err := v.Open(x.Value, record(x)); err != nil {
				bad = append(bad, fmt.Sprintf("%s %d %s", x.Kind, x.ID, x.Name))
			}
		}
		if len(all) > 0 && len(bad) == len(all) {
			return nil, &WrongKeyError{Origin: o, Why: fmt.Sprintf("none of its %d stored secrets opens", len(all)), Hint: hint(ctx, st, "", o)}
		}
		if len(bad) > 0 {
			warnings = append(warnings, fmt.Sprintf("%d stored secrets do not open under the storage key (%s): they were sealed under another key; set them again",
				len(bad), strings.Join(bad, ", ")))
		}
		if !write {
			return warnings, nil
		}
		sealed, err := v.Seal([]byte(checkText), checkRecord)
		if err != nil {
			return nil, err
		}
		ok, err := st.SetMeta(ctx, store.MetaKeyCheck, "", sealed)
		if err != nil {
			return nil, err
		}
		if ok {
			return warnings, nil
		}
		warnings = nil // another node stored a verifier first: check against it
	}
}

// hint says what to do about a wrong key: finish an interrupted rotation
// whose new key is found, or give the right key.
func hint(ctx context.Context, st store.Store, kc string, o Origin) string {
	if kc != "" {
		if o.File != "" {
			if next, err := LoadKeyFile(SideFile(o.File)); err == nil && verifies(next, kc) {
				return fmt.Sprintf("A \"mailmon key rotate\" was interrupted after it sealed the database under the new key in %s, before it put that file in place: run \"mailmon key rotate\" again to finish it (or mv %s %s).",
					SideFile(o.File), SideFile(o.File), o.File)
			}
		}
		if r, err := lastRotation(ctx, st); err == nil && r.NewKeyFile != "" {
			if next, err := LoadKeyFile(r.NewKeyFile); err == nil && verifies(next, kc) {
				return fmt.Sprintf("\"mailmon key rotate\" sealed the database under the key in %s at %s: use that key (set $%s to its content, or --key-file %s).",
					r.NewKeyFile, r.At.Format("2006-01-02 15:04:05Z07:00"), vault.EnvVar, r.NewKeyFile)
			}
		}
	}
	switch {
	case o.Env != "":
		return fmt.Sprintf("Set $%s to the key the database was made with, or give its file with --key-file.", o.Env)
	case o.Created:
		return fmt.Sprintf("A database moved without its key: copy the original storage.key over %s, or give the key with $%s or --key-file.", o.File, vault.EnvVar)
	}
	return fmt.Sprintf("Put the key the database was made with in %s, or give it with $%s or --key-file.", o.File, vault.EnvVar)
}
