package catalog

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/vault"
)

// newCatalog is a catalog on a new SQLite database whose network callers
// may reach loopback and the example names its records use.
func newCatalog(t *testing.T) *Catalog {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return onStore(t, s)
}

func onStore(t *testing.T, s store.Store) *Catalog {
	t.Helper()
	v, err := vault.New([]byte("catalog-test-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	allowed, err := egress.Parse([]string{"127.0.0.1/32", "::1", "10.0.0.0/8", "*.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	return &Catalog{Store: s, Vault: v, Egress: allowed}
}

// applyYAML applies a configuration as the operator.
func (c *Catalog) applyYAML(t *testing.T, y string, env map[string]string) Result {
	t.Helper()
	f, err := config.Parse("test.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.ApplyFile(context.Background(), f, Env{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// open is a stored secret in the clear ("" if there is none).
func (c *Catalog) open(t *testing.T, sealed map[string]string, name, record string) string {
	t.Helper()
	s, ok := sealed[name]
	if !ok {
		return ""
	}
	pt, err := c.Vault.Open(s, record)
	if err != nil {
		t.Fatalf("%s does not open under %s: %v", name, record, err)
	}
	return string(pt)
}

func ptr(s string) *string { return &s }
