package storagekey

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// MetaRotated is the meta value a rotation leaves: when, and the file its
// new key was written to, so that a start with the old key can say where
// the new one is.
const MetaRotated = "key_rotated"

// Rotation is what MetaRotated holds.
type Rotation struct {
	At         time.Time `json:"at"`
	NewKeyFile string    `json:"new_key_file"`
}

func lastRotation(ctx context.Context, st store.Store) (Rotation, error) {
	var r Rotation
	v, err := st.Meta(ctx, MetaRotated)
	if err != nil || v == "" {
		return r, err
	}
	return r, json.Unmarshal([]byte(v), &r)
}

// SideFile is where a rotation writes the new key of a key file before
// the database is sealed under it; it is renamed over the key file after.
func SideFile(keyFile string) string { return keyFile + ".new" }

// LoadKeyFile makes a vault of the key in a file.
func LoadKeyFile(path string) (*vault.Vault, error) {
	k, err := keyfile.Source{File: path}.Load()
	if err != nil {
		return nil, err
	}
	return vault.New(k)
}

// Rotate seals every sealed value of the store (each secret of every
// table, and the key check) under next instead of cur, in one transaction,
// and records r with it. Values cur does not open stop it before anything
// changes: they are named, to be set again or removed first.
func Rotate(ctx context.Context, st store.Store, cur, next *vault.Vault, r Rotation) (int, error) {
	all, err := st.Sealed(ctx)
	if err != nil {
		return 0, err
	}
	var bad []string
	for _, x := range all {
		if _, err := cur.Open(x.Value, record(x)); err != nil {
			bad = append(bad, fmt.Sprintf("%s %d %s", x.Kind, x.ID, x.Name))
		}
	}
	if len(bad) > 0 {
		return 0, fmt.Errorf("%d stored secrets do not open under the current key (%s): set them again, or remove them, before a rotation; nothing was changed",
			len(bad), strings.Join(bad, ", "))
	}
	note, err := json.Marshal(r)
	if err != nil {
		return 0, err
	}
	n := 0
	err = st.Reseal(ctx, func(x store.Sealed) (string, error) {
		pt, err := cur.Open(x.Value, record(x))
		if err != nil {
			return "", fmt.Errorf("%s %d %s no longer opens under the current key (changed meanwhile?)", x.Kind, x.ID, x.Name)
		}
		n++
		return next.Seal(pt, record(x))
	}, map[string]string{MetaRotated: string(note)})
	if err != nil {
		return 0, err
	}
	return n, nil
}
