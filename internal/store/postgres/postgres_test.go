package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/migrations"
	"github.com/mailmon/mailmon/internal/store/storetest"
	"github.com/mailmon/mailmon/internal/testutil/realpg"
)

func TestMain(m *testing.M) { realpg.Main(m) }

func open(t *testing.T) store.Store {
	t.Helper()
	s, err := Open(context.Background(), realpg.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestContract runs the store contract on a real PostgreSQL.
func TestContract(t *testing.T) { storetest.Run(t, open) }

// TestRefusesNewerSchema: a database a newer mailmon migrated is refused
// with both versions and the fix, not used.
func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	url := realpg.NewDB(t)
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, true)`); err != nil {
		t.Fatal(err)
	}
	c.Close(ctx)
	_, err = Open(ctx, url)
	var newer *migrations.NewerError
	if !errors.As(err, &newer) || newer.Database != 9999 || newer.Known >= 9999 {
		t.Fatalf("open of a newer database: %v", err)
	}
	if !strings.Contains(err.Error(), "upgrade mailmon") {
		t.Errorf("the error %q does not say to upgrade", err)
	}
}
