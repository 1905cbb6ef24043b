package sqlite

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/mailmon/mailmon/internal/store/sqlstore"
)

// Tests' results are written in groups. SQLite has one writer, and at a
// few thousand tests a second the daemon spent half its CPU on RecordTest,
// most of it beginning and committing a transaction for every result, one
// after the other: the scheduler fell behind below one core busy. A
// writer goroutine now takes every result waiting when it is free and
// commits them in one transaction. A lone result is committed at once, as
// before; under load a result waits at most for the group ahead of it.
//
// If any write of a group fails (a stale version, a caller that gave up),
// the group is rolled back and each write is retried in a transaction of
// its own, so that one failure is that caller's alone.

// maxGroup bounds a group, so that a transaction stays short.
const maxGroup = 256

var errClosed = errors.New("sqlite: the store is closed")

// groupStats counts what the writer did, for tests.
type groupStats struct {
	waiting      atomic.Int64 // callers of grouped not yet answered
	whole, split atomic.Int64 // groups of two or more committed whole, or retried one by one
}

type pending struct {
	ctx  context.Context
	fn   func(sqlstore.Conn) error
	done chan error // buffered: the writer never waits for the caller
}

// grouped runs fn in a transaction shared with whatever other writes are
// waiting, and returns once it is committed.
func (s *Store) grouped(ctx context.Context, fn func(sqlstore.Conn) error) error {
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
	batch := make([]*pending, 0, maxGroup)
	for {
		select {
		case p := <-s.queue:
			batch = append(batch[:0], p)
		case <-s.closing:
			return
		}
	fill:
		for len(batch) < maxGroup {
			select {
			case p := <-s.queue:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		s.commitGroup(db, batch)
		clear(batch)
	}
}

func (s *Store) commitGroup(db sqlstore.DB, batch []*pending) {
	if len(batch) == 1 {
		p := batch[0]
		p.done <- sqlstore.InTx(p.ctx, db, p.fn)
		return
	}
	err := sqlstore.InTx(context.Background(), db, func(tx sqlstore.Conn) error {
		for _, p := range batch {
			if err := p.fn(tx); err != nil {
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
			p.done <- sqlstore.InTx(p.ctx, db, p.fn)
		}
	}
}
