package sqlite

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/mailmon/mailmon/internal/store/sqlstore"
)

// Tests' results are written in groups. SQLite has one writer, and at a
// few thousand tests a second the daemon spent half its CPU on RecordTest,
// most of it beginning and committing a transaction for every result, one
// after the other: the scheduler fell behind below one core busy. A
// writer goroutine now takes every result waiting when it is free and
// commits them in one transaction.
//
// Results that come one at a time are grouped too: at 333 tests a second
// spread evenly over the minute, the writer was nearly always free when a
// result came, so every result had a transaction of its own (BEGIN
// IMMEDIATE, its file locks, a WAL frame and COMMIT: a fifth of serve's CPU
// at 20,000 monitors). The writer now lingers after the first result of a
// group, up to linger or until maxGroup are waiting, and commits them
// together. A caller that writes one result after the other (apply, a
// test) would wait the whole linger each time for nobody: a linger that
// collected nothing is not tried again for the next skipAfterIdle groups.
// Close commits a lingering group at once.
//
// If any write of a group fails (a stale version, a monitor deleted),
// the group is rolled back and each write is retried in a transaction of
// its own, so that one failure is that caller's alone.
//
// A caller can stop waiting until the writer takes its write (grouped's
// select); once taken, the write is committed whatever becomes of the
// caller's context: its statements run under the writer's, which nothing
// cancels. Run under the caller's, one caller's cancelled context
// interrupted a statement of the whole shared group (which then failed
// and was retried one by one), and modernc.org/sqlite watched every
// statement's context with a goroutine, a channel and a progress handler
// of its own (184 MB of allocations in serve's profile at 100,000
// monitors); a context without a Done channel it does not watch.

// defaultMaxGroup bounds a group (Store.maxGroup), so that a transaction
// stays short and its dirty pages fit SQLite's page cache. Groups of 256
// taken with a cache of 2 MB (~500 pages) spilled dirty pages to the WAL
// mid-transaction and rewrote them at commit (pagerStress and
// walRewriteChecksums, 13% of serve's CPU at 100,000 monitors), so groups
// were 64; the writer's cache is 16 MB (~3,900 pages; writerPragmas) since,
// and a group of 256 first results, the most a result dirties, writes 3.5
// WAL pages a result against 5.4 in groups of 64: fewer, nothing spilled
// (BenchmarkRecordTestGroup). At 100,000 monitors (1,667 tests a second)
// the linger then ends a group, at ~90 results instead of 64; when the
// writer falls behind (the first minute) groups fill.
//
// A group also pays some costs once, whatever its size: BEGIN and COMMIT,
// and, in a group whose inserts split a B-tree page, a scan of the whole
// hash of SQLite's page cache (~4,096 buckets at 16 MB, ~0.3 ms in
// serve's profile): balance_nonroot swaps two new pages' numbers through
// a spare one, the pending-byte page's (262,145 with 4 KiB pages), and
// the cache, having held a page that far beyond the database's size, is
// truncated to it at the transaction's end (pager_end_transaction →
// pcache1TruncateUnsafe); no setting avoids it.
const defaultMaxGroup = 256

// defaultLinger is how long the writer waits for more results after the
// first of a group (Store.linger): at 333 tests a second, 50 ms gathers
// seventeen on average. A transaction costs the process ~300 µs of CPU
// besides its results' pages (BEGIN, COMMIT, the wake-ups of the writer
// and of the tests it answers): at 20,000 monitors 20 ms, gathering six,
// cost 290 µs a result against 245 (BenchmarkRecordTestPaced; 100 ms
// saved no more). A test holds its slot (--max-in-flight, 2048) up to that
// much longer; at 1,667 tests a second it gathers ~85.
const defaultLinger = 50 * time.Millisecond

// skipAfterIdle groups are committed without lingering after a linger
// that gathered nothing (a lone writer pays one linger in that many).
const skipAfterIdle = 32

var errClosed = errors.New("sqlite: the store is closed")

// groupStats counts what the writer did, for tests.
type groupStats struct {
	waiting      atomic.Int64 // callers of grouped not yet answered
	whole, split atomic.Int64 // groups of two or more committed whole, or retried one by one
	taken        atomic.Int64 // writes the writer took from the queue
	writes, txs  atomic.Int64 // writes answered, and transactions begun for them
}

type pending struct {
	ctx  context.Context
	fn   func(context.Context, sqlstore.Conn) error
	done chan error // buffered: the writer never waits for the caller
}

// grouped runs fn in a transaction shared with whatever other writes are
// waiting, and returns once it is committed.
func (s *Store) grouped(ctx context.Context, fn func(context.Context, sqlstore.Conn) error) error {
	p := &pending{ctx: ctx, fn: fn, done: make(chan error, 1)}
	s.groups.waiting.Add(1)
	defer s.groups.waiting.Add(-1)
	select {
	case s.queue <- p:
	case <-s.closing:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-p.done // everything the writer took is answered
}

// writer commits groups on db until the store closes.
func (s *Store) writer(db sqlstore.DB) {
	defer close(s.writerDone)
	batch := make([]*pending, 0, defaultMaxGroup)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	skip := 0 // groups still to commit without lingering
	for {
		select {
		case p := <-s.queue:
			s.groups.taken.Add(1)
			batch = append(batch[:0], p)
		case <-s.closing:
			return
		}
		batch = s.take(batch)
		if skip > 0 {
			skip--
		} else if n := len(batch); n < s.maxGroup {
			if batch = s.gather(batch, timer); len(batch) == n {
				skip = skipAfterIdle
			}
		}
		s.commitGroup(db, batch)
		clear(batch)
	}
}

// take adds to batch what is waiting now, up to s.maxGroup.
func (s *Store) take(batch []*pending) []*pending {
	for len(batch) < s.maxGroup {
		select {
		case p := <-s.queue:
			s.groups.taken.Add(1)
			batch = append(batch, p)
		default:
			return batch
		}
	}
	return batch
}

// gather adds to batch what comes within s.linger, up to s.maxGroup; the
// store's closing ends it at once.
func (s *Store) gather(batch []*pending, timer *time.Timer) []*pending {
	timer.Reset(s.linger)
	defer timer.Stop()
	for len(batch) < s.maxGroup {
		select {
		case p := <-s.queue:
			s.groups.taken.Add(1)
			batch = append(batch, p)
		case <-timer.C:
			return batch
		case <-s.closing:
			return batch
		}
	}
	return batch
}

func (s *Store) commitGroup(db sqlstore.DB, batch []*pending) {
	s.groups.writes.Add(int64(len(batch)))
	s.groups.txs.Add(1)
	if len(batch) == 1 {
		batch[0].done <- commitOne(db, batch[0])
		return
	}
	ctx := context.Background() // the group's: no caller's
	err := sqlstore.InTx(ctx, db, func(tx sqlstore.Conn) error {
		for _, p := range batch {
			if err := p.fn(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		s.groups.whole.Add(1)
	} else {
		s.groups.split.Add(1)
	}
	for _, p := range batch {
		if err == nil {
			p.done <- nil
		} else {
			s.groups.txs.Add(1)
			p.done <- commitOne(db, p)
		}
	}
}

// commitOne commits p in a transaction of its own, under p's context
// without its cancellation (its values kept).
func commitOne(db sqlstore.DB, p *pending) error {
	ctx := context.WithoutCancel(p.ctx)
	return sqlstore.InTx(ctx, db, func(tx sqlstore.Conn) error { return p.fn(ctx, tx) })
}
