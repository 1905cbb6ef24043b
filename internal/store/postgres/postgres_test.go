package postgres

import (
	"context"
	"testing"

	"github.com/mailmon/mailmon/internal/store"
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
