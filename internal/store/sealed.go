package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

// Sealed is one sealed value a store holds: a secret of a monitor, an
// alert or a credential (Kind "monitor", "alert", "credential", ID its
// row, Name the secret's name), or the storage key's verifier (Kind
// "key", ID 0, Name "check"). Kind/ID/Name is the record it is sealed for
// (vault.Record).
type Sealed struct {
	Kind  string
	ID    int64
	Name  string
	Value string
}

// MetaKeyCheck is the meta value that holds the storage key's verifier.
const MetaKeyCheck = "key_check"

// Sealer is what a store offers for its sealed values as a whole.
type Sealer interface {
	// Meta returns a value of the database as a whole ("" when none is
	// stored).
	Meta(ctx context.Context, name string) (string, error)
	// SetMeta stores value under name if the stored one is still old (""
	// for none), and reports whether it did: of two nodes' first starts,
	// one writes and the other reads what it wrote.
	SetMeta(ctx context.Context, name, old, value string) (bool, error)
	// Sealed returns every sealed value the store holds, the key's
	// verifier included.
	Sealed(ctx context.Context) ([]Sealed, error)
	// Reseal replaces every sealed value (the verifier included) by what
	// fn returns for it and stores the meta values of set, in one
	// transaction: an error of fn leaves everything as it was.
	Reseal(ctx context.Context, fn func(Sealed) (string, error), set map[string]string) error
}

// SecretTables are the tables whose secrets column holds sealed values,
// with the Kind of their values.
var SecretTables = []struct{ Kind, Table string }{{"monitor", "monitors"}, {"alert", "alerts"}, {"credential", "credentials"}, {"user", "users"}}

// SecretsRow is one row's secrets column (JSON: name → sealed value), as
// the backends read and write it for Sealed and Reseal.
type SecretsRow struct {
	Kind    string
	ID      int64
	Secrets string
}

// ScanSecretsRows reads the rows of a "SELECT id, secrets" of the table of
// kind, through the backend's rows.Next and rows.Scan.
func ScanSecretsRows(kind string, next func() bool, scan func(dest ...any) error) ([]SecretsRow, error) {
	var out []SecretsRow
	for next() {
		r := SecretsRow{Kind: kind}
		if err := scan(&r.ID, &r.Secrets); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// SealedOf lists the sealed values of rows, by row and name, and the
// verifier keyCheck ("" for none).
func SealedOf(rows []SecretsRow, keyCheck string) ([]Sealed, error) {
	var out []Sealed
	for _, r := range rows {
		var m map[string]string
		if err := json.Unmarshal([]byte(r.Secrets), &m); err != nil {
			return nil, fmt.Errorf("%s %d secrets: %w", r.Kind, r.ID, err)
		}
		names := make([]string, 0, len(m))
		for n := range m {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			out = append(out, Sealed{Kind: r.Kind, ID: r.ID, Name: n, Value: m[n]})
		}
	}
	if keyCheck != "" {
		out = append(out, Sealed{Kind: "key", Name: "check", Value: keyCheck})
	}
	return out, nil
}

// ResealRows runs fn on every value of rows and of the verifier keyCheck;
// it returns the rows whose secrets changed, with their new JSON, and the
// meta values to store: set and the new verifier.
func ResealRows(rows []SecretsRow, keyCheck string, fn func(Sealed) (string, error), set map[string]string) ([]SecretsRow, map[string]string, error) {
	var changed []SecretsRow
	for _, r := range rows {
		var m map[string]string
		if err := json.Unmarshal([]byte(r.Secrets), &m); err != nil {
			return nil, nil, fmt.Errorf("%s %d secrets: %w", r.Kind, r.ID, err)
		}
		if len(m) == 0 {
			continue
		}
		for n, v := range m {
			nv, err := fn(Sealed{Kind: r.Kind, ID: r.ID, Name: n, Value: v})
			if err != nil {
				return nil, nil, err
			}
			m[n] = nv
		}
		b, err := json.Marshal(m)
		if err != nil {
			return nil, nil, err
		}
		changed = append(changed, SecretsRow{Kind: r.Kind, ID: r.ID, Secrets: string(b)})
	}
	meta := map[string]string{}
	for k, v := range set {
		meta[k] = v
	}
	if keyCheck != "" {
		nv, err := fn(Sealed{Kind: "key", Name: "check", Value: keyCheck})
		if err != nil {
			return nil, nil, err
		}
		meta[MetaKeyCheck] = nv
	}
	return changed, meta, nil
}

// TableOf is the table that holds the secrets of kind.
func TableOf(kind string) string {
	for _, t := range SecretTables {
		if t.Kind == kind {
			return t.Table
		}
	}
	panic("store: no table holds secrets of kind " + kind)
}
