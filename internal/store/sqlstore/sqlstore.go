// Package sqlstore is the one implementation of store.Store over SQL: every
// statement is written once, with ? placeholders, and runs on SQLite
// (store/sqlite) and PostgreSQL (store/postgres) alike. What truly differs
// between the two is a Dialect; how a database is opened, its connections,
// its migrations and what only PostgreSQL has (the cluster's leases and
// claims) stay in the dialect's package.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// Conn is what statements run on: a database's connections, or a
// transaction. Queries are written with ? placeholders; a Conn turns them
// into its database's own.
type Conn interface {
	// Exec runs a statement and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Rows is the result of a Query (*sql.Rows, pgx.Rows).
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is the result of a QueryRow; a Row with no row scans
// sql.ErrNoRows (pgx.ErrNoRows is one).
type Row interface {
	Scan(dest ...any) error
}

// Tx is a transaction.
type Tx interface {
	Conn
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// DB is the connection(s) that write: Begin starts a transaction that
// writes.
type DB interface {
	Conn
	Begin(ctx context.Context) (Tx, error)
}

// Dialect is what differs between the databases, and nothing else.
type Dialect struct {
	// ILike is the operator of a case-insensitive LIKE.
	ILike string
	// ForUpdate ends a SELECT whose rows a transaction reads to write
	// back: it locks them. "" where a transaction that writes shuts out
	// every other writer from its start (SQLite's).
	ForUpdate string
	// Bytes is the type of binary columns.
	Bytes string
	// Tail is the SQL of the last n bytes of the binary expr (a
	// concatenation: SQLite's makes text of it).
	Tail func(expr string, n int) string
	// JSONText is the SQL of a JSON text column's string field key, ""
	// where it has none.
	JSONText func(expr, key string) string
	// ResultKey is the unique key of results, the conflict target of
	// their upsert.
	ResultKey string
	// Unique and ForeignKey tell a unique and a foreign key violation.
	Unique, ForeignKey func(error) bool
	// RollupLock makes the transactions that replace roll-ups take turns
	// across nodes; nil where a writer is alone.
	RollupLock func(ctx context.Context, tx Conn) error
	// Fence checks, in a test's transaction, that f.Node still holds
	// f.Lease, else store.ErrLeaseLost; nil where one node holds every
	// lease.
	Fence func(ctx context.Context, tx Conn, f *store.Fence) error
}

// Options is what New needs of a database.
type Options struct {
	Dialect Dialect
	Writer  DB   // writes, and the transactions
	Reader  Conn // reads outside a transaction
	// Record runs the transaction of a RecordTest; nil: InTx on Writer.
	// (SQLite commits several tests in one: sqlite/group.go.) fn's
	// statements run under the context Record passes it: the default
	// passes ctx (PostgreSQL's statements keep the caller's deadline);
	// SQLite's group writer its own, which no caller cancels.
	Record func(ctx context.Context, fn func(context.Context, Conn) error) error
	// Close closes the database.
	Close func() error
}

// Store is the store.Store of a SQL database.
type Store struct {
	d      Dialect
	w, r   Conn // in a batch, both are its transaction
	db     DB
	batch  Conn // a batch's transaction, in a batch's store only
	record func(ctx context.Context, fn func(context.Context, Conn) error) error
	close  func() error
	q      statements
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Batcher = (*Store)(nil)
)

// New returns the store of a database opened and migrated by its
// dialect's package.
func New(o Options) *Store {
	s := &Store{d: o.Dialect, w: o.Writer, r: o.Reader, db: o.Writer, record: o.Record, close: o.Close, q: newStatements(o.Dialect)}
	if s.record == nil {
		s.record = s.recordTx
	}
	return s
}

// Close closes the database.
func (s *Store) Close() error {
	if s.close == nil {
		return nil
	}
	return s.close()
}

// Ping checks that the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.r.QueryRow(ctx, `SELECT 1`).Scan(&one)
}

// InTx runs fn in a transaction of db, committed if fn returns nil and
// rolled back otherwise (a panic too).
func InTx(ctx context.Context, db DB, fn func(Conn) error) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) // once committed, does nothing
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// tx runs fn in a transaction of its own, or, in a batch, in a savepoint
// of the batch's.
func (s *Store) tx(ctx context.Context, fn func(Conn) error) error {
	if s.batch != nil {
		return s.savepoint(ctx, fn)
	}
	return InTx(ctx, s.db, fn)
}

// recordTx is tx for Options.Record: fn's statements run under ctx.
func (s *Store) recordTx(ctx context.Context, fn func(context.Context, Conn) error) error {
	return s.tx(ctx, func(tx Conn) error { return fn(ctx, tx) })
}

// Batch runs fn in one transaction: the store's own methods, run on it. On
// SQLite it holds the write lock until fn returns, so the daemon's results
// wait: keep batches short (apply makes one per thousand monitors).
func (s *Store) Batch(ctx context.Context, fn func(store.Config) error) error {
	return s.tx(ctx, func(tx Conn) error {
		b := &Store{d: s.d, w: tx, r: tx, batch: tx, q: s.q}
		b.record = b.recordTx
		return fn(b)
	})
}

// savepoint runs fn inside a batch's transaction as a unit of its own: a
// method that fails half-way leaves nothing of its work in the batch.
func (s *Store) savepoint(ctx context.Context, fn func(Conn) error) error {
	if _, err := s.batch.Exec(ctx, `SAVEPOINT method`); err != nil {
		return err
	}
	if err := fn(s.batch); err != nil {
		s.batch.Exec(ctx, `ROLLBACK TO method`)
		s.batch.Exec(ctx, `RELEASE method`)
		return err
	}
	_, err := s.batch.Exec(ctx, `RELEASE method`)
	return err
}

func ms(t time.Time) int64 { return t.UTC().UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nullMS(v *int64) time.Time {
	if v == nil {
		return time.Time{}
	}
	return fromMS(*v)
}

func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

func us(v int64) time.Duration { return time.Duration(v) * time.Microsecond }

// conflict turns a unique-constraint failure into store.ErrConflict.
func (s *Store) conflict(err error) error {
	if err != nil && s.d.Unique(err) {
		return fmt.Errorf("%w: %v", store.ErrConflict, err)
	}
	return err
}

// missing turns a foreign key failure (a row refers to none) into
// store.ErrNotFound.
func (s *Store) missing(err error) error {
	if err != nil && s.d.ForeignKey(err) {
		return store.ErrNotFound
	}
	return err
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

func affected(n int64, err error) error {
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func secretsJSON(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func specJSON(b json.RawMessage) string {
	if len(b) == 0 {
		return "{}"
	}
	return string(b)
}

// List runs a query on c and scans each row with scan.
func List[T any](ctx context.Context, c Conn, scan func(Row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := c.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
