package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mailmon/mailmon/internal/store"
)

// conn is what the store's statements run on: the pool, or a batch's
// transaction (whose Begin makes a savepoint, so that a method that
// runs a transaction of its own stays whole inside a batch).
type conn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

var _ store.Batcher = (*Store)(nil)

// Batch runs fn in one transaction: the store's own methods, run on it.
func (s *Store) Batch(ctx context.Context, fn func(store.Config) error) error {
	return pgx.BeginFunc(ctx, s.p, func(tx pgx.Tx) error {
		return fn(&Store{p: tx, pool: s.pool})
	})
}
