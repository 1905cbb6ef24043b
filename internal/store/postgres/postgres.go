// Package postgres is the store for several nodes: the statements of
// store/sqlstore on PostgreSQL through jackc/pgx v5 (a connection pool),
// the same schema as SQLite in its own dialect (migrations/postgres,
// applied on open with goose under an advisory lock), and what only
// PostgreSQL offers, the Cluster operations (cluster.go): node heartbeats,
// monitor leases taken with FOR UPDATE SKIP LOCKED, notifications claimed
// the same way, and the lease checked in each test's transaction.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/migrations"
	"github.com/mailmon/mailmon/internal/store/sqlstore"
)

// dialect is PostgreSQL's: several nodes write at once, so rows read to
// be written back are locked, roll-ups are replaced in turn and a test is
// stored only under its lease; results are keyed by monitor, time and
// location.
var dialect = sqlstore.Dialect{
	ILike:     "ILIKE",
	ForUpdate: " FOR UPDATE",
	ResultKey: "monitor_id, t_ms, location",
	Bytes:     "bytea",
	Tail: func(expr string, n int) string {
		return fmt.Sprintf(`substring(%s from greatest(octet_length(%s) - %d, 0) + 1)`, expr, expr, n)
	},
	JSONText: func(expr, key string) string {
		return fmt.Sprintf(`coalesce((%s)::jsonb->>'%s', '')`, expr, key)
	},
	Unique:     isCode("23505"), // unique_violation
	ForeignKey: isCode("23503"), // foreign_key_violation
	RollupLock: func(ctx context.Context, tx sqlstore.Conn) error {
		_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, rollupLock)
		return err
	},
	Fence: fence,
}

// rollupLock is the advisory lock every node's janitor takes to roll up: one
// at a time, so that two nodes replacing the same bucket do not collide.
const rollupLock = 0x6d61696c6d6f6e // "mailmon"

func isCode(code string) func(error) bool {
	return func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == code
	}
}

// Store is the PostgreSQL store.
type Store struct {
	*sqlstore.Store
	db pool // the pool, for the cluster's statements
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Batcher = (*Store)(nil)
	_ store.Cluster = (*Store)(nil)
)

// IsURL reports whether a --db value names a PostgreSQL database.
func IsURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// Open connects to the database at url (postgres://…) and migrates it.
// Several nodes may open and migrate the same database at once: goose
// takes a lock for the migration.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") && cfg.MaxConns < 8 {
		cfg.MaxConns = 8 // pgx's default is the number of CPUs (at least 4)
	}
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := migrate(ctx, p); err != nil {
		p.Close()
		return nil, fmt.Errorf("postgres %s: %w", redact(cfg), err)
	}
	db := newPool(p)
	s := &Store{db: db, Store: sqlstore.New(sqlstore.Options{Dialect: dialect, Writer: db, Reader: db,
		Close: func() error { p.Close(); return nil }})}
	if err := s.FillRecent(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("postgres %s: %w", redact(cfg), err)
	}
	return s, nil
}

// Redact returns a --db value fit to print: a PostgreSQL URL without its
// password; anything else as it is.
func Redact(db string) string {
	if !IsURL(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}

// redact names the database without its password, for errors.
func redact(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	locker, err := newLocker()
	if err != nil {
		return err
	}
	p, err := migrations.NewProvider(goose.DialectPostgres, db, goose.WithSessionLocker(locker))
	if err != nil {
		return err
	}
	return migrations.Up(ctx, p)
}
