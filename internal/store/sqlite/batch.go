package sqlite

import (
	"context"
	"database/sql"

	"github.com/mailmon/mailmon/internal/store"
)

// conn is what the store's statements run on: the database, or a batch's
// transaction.
type conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var _ store.Batcher = (*Store)(nil)

// Batch runs fn in one transaction on the writer's connection: the
// store's own methods, run on that transaction. It holds SQLite's write
// lock until fn returns, so the daemon's results wait: keep batches short
// (apply makes one per thousand monitors).
func (s *Store) Batch(ctx context.Context, fn func(store.Config) error) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		return fn(&Store{w: tx, r: tx, batch: tx})
	})
}

// savepoint runs fn inside a batch's transaction as a unit of its own: a
// method that fails half-way leaves nothing of its work in the batch.
func (s *Store) savepoint(ctx context.Context, fn func(*sql.Tx) error) error {
	if _, err := s.batch.ExecContext(ctx, `SAVEPOINT method`); err != nil {
		return err
	}
	if err := fn(s.batch); err != nil {
		s.batch.ExecContext(ctx, `ROLLBACK TO method`)
		s.batch.ExecContext(ctx, `RELEASE method`)
		return err
	}
	_, err := s.batch.ExecContext(ctx, `RELEASE method`)
	return err
}
