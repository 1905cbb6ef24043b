// Package flakystore wraps a store whose database can be taken away, for
// tests of what mailmon says while it is: the calls below then fail as
// PostgreSQL's do when the server is gone (store.ErrUnavailable).
package flakystore

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
)

// Store is a store whose Ping, token, session and monitor reads fail while
// Down is set.
type Store struct {
	store.Store
	Down atomic.Bool
}

func (s *Store) err() error {
	if s.Down.Load() {
		return fmt.Errorf("%w: dial tcp 127.0.0.1:5432: connect: connection refused", store.ErrUnavailable)
	}
	return nil
}

func (s *Store) Ping(ctx context.Context) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.Ping(ctx)
}

func (s *Store) TokenByHash(ctx context.Context, hash string) (*store.Token, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.TokenByHash(ctx, hash)
}

func (s *Store) SessionByHash(ctx context.Context, hash string) (*store.Session, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.SessionByHash(ctx, hash)
}

func (s *Store) Monitors(ctx context.Context, f store.MonitorFilter) ([]store.Monitor, int, error) {
	if err := s.err(); err != nil {
		return nil, 0, err
	}
	return s.Store.Monitors(ctx, f)
}

// Open is a flaky store over a new SQLite database, closed when the test
// ends.
func Open(t testing.TB) *Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "flaky.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &Store{Store: db}
}

// Engine runs an engine on s that checks its database every 20 ms, until
// the test ends.
func Engine(t testing.TB, s store.Store) *engine.Engine {
	ctx, cancel := context.WithCancel(context.Background())
	e := engine.New(engine.Options{Store: s, HealthEvery: 20 * time.Millisecond})
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return e
}
