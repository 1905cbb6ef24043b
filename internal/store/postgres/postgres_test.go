package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

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

// TestRecentSurvivesRestart: the board's last results are kept across a
// restart, and filled on open where the column is NULL (as after 00016).
func TestRecentSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	url := realpg.NewDB(t)
	storetest.RecentSurvivesRestart(t, func() store.Store {
		s, err := Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, func(id int64) {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `UPDATE monitor_status SET recent=NULL WHERE monitor_id=$1`, id); err != nil {
			t.Fatal(err)
		}
	})
}

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

// TestUnavailable: while the server is down, the store's errors say that
// the database is unavailable (not that a row is missing), and it works
// again once the server is back.
func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	c := s.(store.Cluster)
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TokenByHash(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a missing token: %v", err)
	}
	srv := realpg.Start(t)
	srv.Halt()
	t.Cleanup(func() { srv.Resume() })
	checks := map[string]func() error{
		"Ping":        func() error { return s.Ping(ctx) },
		"TokenByHash": func() error { _, err := s.TokenByHash(ctx, "nope"); return err },
		"Monitors":    func() error { _, _, err := s.Monitors(ctx, store.MonitorFilter{}); return err },
		"RecordTest": func() error {
			return s.RecordTest(ctx, store.Test{Status: store.Status{MonitorID: 1, LastTest: time.Now()}})
		},
		"Heartbeat": func() error { _, err := c.Heartbeat(ctx, store.Node{ID: "n"}, time.Second); return err },
	}
	for name, fn := range checks {
		if err := fn(); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s while the server is down: %v, want ErrUnavailable", name, err)
		}
	}
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping once the server is back: %v", err)
	}
}
