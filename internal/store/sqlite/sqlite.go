// Package sqlite is the embedded store: the statements of store/sqlstore
// on SQLite through modernc.org/sqlite (no cgo), WAL, a busy timeout, one
// writer connection whose tests' results are committed in groups
// (group.go) and a pool of readers, a database file only its owner reads
// (mode.go), migrations (migrations/sqlite) applied on open.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite" // the database/sql driver "sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/mailmon/mailmon/internal/store/migrations"
	"github.com/mailmon/mailmon/internal/store/sqlstore"
)

// dialect is SQLite's: one writer at a time, so no row locks, no roll-up
// lock and no lease to check (a SQLite database has one node, which holds
// every lease); results are keyed by monitor and time.
var dialect = sqlstore.Dialect{
	ILike:     "LIKE", // case-insensitive for ASCII
	ResultKey: "monitor_id, t_ms",
	Bytes:     "BLOB",
	Tail: func(expr string, n int) string {
		return fmt.Sprintf(`substr(CAST(%s AS BLOB), -%d)`, expr, n)
	},
	JSONText: func(expr, key string) string {
		return fmt.Sprintf(`coalesce(json_extract(%s, '$.%s'), '')`, expr, key)
	},
	Unique:     isCode(sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY),
	ForeignKey: isCode(sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY),
}

// isCode tells an error of one of the (extended) result codes.
func isCode(codes ...int) func(error) bool {
	return func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		for _, c := range codes {
			if e.Code() == c {
				return true
			}
		}
		return false
	}
}

// writerPragmas are the writer connection's own settings. At 100,000
// monitors a result dirties two leaves met at random (its monitor's
// results and status), and what else a group touches (the trees' interior
// pages) did not fit SQLite's default cache of 2 MB: a result cost four
// reads (BenchmarkRecordTestScale). 16 MB keeps them: three. The WAL is
// checkpointed every 8,000 pages (32 MB) instead of 1,000: a page written
// twice between checkpoints is copied once, and the checkpoint reads the
// WAL in fewer, longer runs (2.7 reads and 14.5 KB written a result
// instead of 4.1 and 16 KB; a checkpoint holds the writer ~70 ms).
// The WAL file is cut back to walSizeLimit when it starts over: a long
// read (a backup, a report) keeps checkpoints from reaching the log's end,
// and the file, grown by every write meanwhile, stayed that size (1 GB at
// 100,000 monitors after a 15-s read) for as long as serve ran.
var writerPragmas = url.Values{"_pragma": {"cache_size(-16000)", "wal_autocheckpoint(8000)",
	fmt.Sprintf("journal_size_limit(%d)", walSizeLimit)}}.Encode()

// walSizeLimit is the size the WAL file is cut back to: twice what the
// autocheckpoint lets it reach.
const walSizeLimit = 64 << 20

// Store is the SQLite store.
type Store struct {
	*sqlstore.Store

	wdb, rdb *sql.DB
	lock     *os.File          // a shared flock while open (lock_unix.go)
	prepared sqlstore.Prepared // on the writer's connection

	queue      chan *pending // tests' results for the group writer (group.go)
	linger     time.Duration // how long a group waits for more (defaultLinger)
	maxGroup   int           // the most results a group commits (defaultMaxGroup)
	closing    chan struct{}
	writerDone chan struct{}
	closeOnce  sync.Once
	groups     groupStats
}

// fileURI is path as the SQLite URI the driver opens: '?', '#' and '%'
// escaped. Unescaped, a '#' ended the path there (a directory "ops#2"
// opened, and created, a database "ops" beside it) and a '?' began the
// parameters.
func fileURI(path string) string { return "file:" + (&url.URL{Path: path}).EscapedPath() }

// Open opens (creating if needed) the database at path and migrates it.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	lock, err := lockFile(path, false)
	if errors.Is(err, errLocked) {
		return nil, fmt.Errorf("sqlite %s: a restore (mailmon restore) is replacing this database; try again when it has ended", path)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	dsn := fileURI(path) + "?" + q.Encode()
	w, err := sql.Open("sqlite", dsn+"&"+writerPragmas+"&_txlock=immediate")
	if err != nil {
		lock.Close()
		return nil, err
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		lock.Close()
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(4)
	s := &Store{wdb: w, rdb: r, lock: lock,
		queue: make(chan *pending), linger: defaultLinger, maxGroup: defaultMaxGroup, closing: make(chan struct{}), writerDone: make(chan struct{})}
	writer := sqlstore.SQLDB{DB: w, Prepared: &s.prepared}
	s.Store = sqlstore.New(sqlstore.Options{Dialect: dialect, Writer: writer, Reader: sqlstore.SQLDB{DB: r},
		Record: s.grouped, Close: s.close})
	go s.writer(writer)
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	if err := s.FillRecent(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	p, err := migrations.NewProvider(goose.DialectSQLite3, s.wdb)
	if err != nil {
		return err
	}
	return migrations.Up(ctx, p)
}

// prepare prepares the statements every test runs once, on the writer's
// connection, when the store opens: parsing them for each result was a
// third of the writer's time. (They cannot be prepared lazily: the writer
// pool has one connection, which a transaction holds.) No test is
// recorded before Open returns, so they are read only after.
func (s *Store) prepare(ctx context.Context) error {
	return s.prepared.Prepare(ctx, s.wdb, sqlstore.RecordStatements(dialect))
}

// close closes the database, once the results already taken by the group
// writer are committed.
func (s *Store) close() error {
	s.closeOnce.Do(func() { close(s.closing) })
	<-s.writerDone
	s.prepared.Close()
	err := errors.Join(s.rdb.Close(), s.wdb.Close())
	s.lock.Close() // after SQLite's own close: a restore waits for it
	return err
}
