package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlstore"
)

// pgxConn runs sqlstore's statements through pgx (the pool, or a
// transaction): ? placeholders become $1, $2 …; pgx prepares each
// statement once per connection and keeps it.
type pgxConn struct {
	c interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	}
}

func (c pgxConn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := c.c.Exec(ctx, rebind(query), args...)
	return tag.RowsAffected(), unavailable(err)
}

func (c pgxConn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := c.c.Query(ctx, rebind(query), args...)
	if err != nil {
		return nil, unavailable(err)
	}
	return pgxRows{rows}, nil
}

func (c pgxConn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return pgxRow{c.c.QueryRow(ctx, rebind(query), args...)}
}

type pgxRows struct{ pgx.Rows }

func (r pgxRows) Scan(dest ...any) error { return unavailable(r.Rows.Scan(dest...)) }
func (r pgxRows) Err() error             { return unavailable(r.Rows.Err()) }

type pgxRow struct{ pgx.Row }

func (r pgxRow) Scan(dest ...any) error { return unavailable(r.Row.Scan(dest...)) }

// unavailable marks (store.ErrUnavailable) the errors that say the
// database could not be reached: no connection (refused, reset, timed
// out), the server shutting down or starting, a connection lost mid-way.
// The API answers them 503, not as if the request were wrong.
func unavailable(err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) {
		return err
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ce), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
	case errors.As(err, &pe):
		// Class 08: connection exception; 57P01-57P03: the server is
		// shutting down, crashed, or not yet accepting connections.
		if !strings.HasPrefix(pe.Code, "08") && pe.Code != "57P01" && pe.Code != "57P02" && pe.Code != "57P03" {
			return err
		}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err // the caller gave up: not the database's doing
	case errors.As(err, &ne), pgconn.SafeToRetry(err):
	default:
		return err
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}

// pool is the pool as a sqlstore.DB.
type pool struct {
	pgxConn
	p *pgxpool.Pool
}

func newPool(p *pgxpool.Pool) pool { return pool{pgxConn{p}, p} }

func (p pool) Begin(ctx context.Context) (sqlstore.Tx, error) {
	tx, err := p.p.Begin(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	return pgxTx{pgxConn{tx}, tx}, nil
}

type pgxTx struct {
	pgxConn
	tx pgx.Tx
}

func (t pgxTx) Commit(ctx context.Context) error   { return unavailable(t.tx.Commit(ctx)) }
func (t pgxTx) Rollback(ctx context.Context) error { return t.tx.Rollback(ctx) }

// rebind turns ? placeholders into PostgreSQL's $1, $2 …, so that a
// statement is written once for both databases. (No statement has a ? of
// its own: in a string, or PostgreSQL's jsonb operators.)
func rebind(query string) string {
	n := strings.Count(query, "?")
	if n == 0 {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 2*n)
	i := 0
	for {
		j := strings.IndexByte(query, '?')
		if j < 0 {
			b.WriteString(query)
			return b.String()
		}
		i++
		b.WriteString(query[:j])
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(i))
		query = query[j+1:]
	}
}
