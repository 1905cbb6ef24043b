package sqlstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlstore"
)

// TestJanitorWritesInParts: the prunes and the daily roll-up write a part
// of the monitors a statement (a prune) or a transaction (the roll-up),
// partMonitors each, so that none holds the writer, and the tests'
// results waiting for it, for the whole table (one prune of 100,000
// monitors' hour deleted 6,000,000 results in one statement); together
// they do what one did. 10 monitors in parts of 3: 4 writes each.
func TestJanitorWritesInParts(t *testing.T) {
	ctx := context.Background()
	day := store.Truncate(store.Day, time.Now()).AddDate(0, 0, -2)
	const monitors, part, hours = 10, 3, 4
	s, ids := openMonitors(t, monitors)
	for _, id := range ids {
		for h := range hours { // a result in each of the day's first hours
			record(t, s, id, day.Add(time.Duration(h)*time.Hour+time.Minute), probe.StatusUp)
		}
	}
	if err := s.RollUp(ctx, store.Hour, day, day.Add(hours*time.Hour)); err != nil {
		t.Fatal(err)
	}
	sqlstore.SetPartMonitors(t, part)
	w := &counting{}
	sqlstore.WrapWriter(s.Store, func(db sqlstore.DB) sqlstore.DB { w.DB = db; return w })
	wantWrites := (monitors + part - 1) / part

	// The daily roll-up: a transaction a part, every monitor's day.
	w.reset()
	if err := s.RollUp(ctx, store.Day, day, day.AddDate(0, 0, 1)); err != nil {
		t.Fatal(err)
	}
	if w.txs != wantWrites || w.stmts != wantWrites {
		t.Errorf("the daily roll-up: %d transactions, %d statements; want %d of each", w.txs, w.stmts, wantWrites)
	}
	for i, id := range ids {
		rs, err := s.Rollups(ctx, id, store.Day, day, day.AddDate(0, 0, 1))
		if err != nil || len(rs) != 1 || rs[0].Tests != hours {
			t.Errorf("monitor %d: day roll-ups %+v, %v; want one of %d tests", i, rs, err, hours)
		}
	}

	// The hourly roll-ups' prune: the first hour's, a statement a part,
	// each of its monitors' rows.
	w.reset()
	n, err := s.PruneRollups(ctx, store.Hour, day.Add(time.Hour))
	if err != nil || n != monitors {
		t.Errorf("PruneRollups: %d, %v; want %d", n, err, monitors)
	}
	w.check(t, "PruneRollups", wantWrites, part)

	// The results' prune: the first two hours', likewise.
	w.reset()
	n, err = s.Prune(ctx, day.Add(2*time.Hour))
	if err != nil || n != 2*monitors {
		t.Errorf("Prune: %d, %v; want %d", n, err, 2*monitors)
	}
	w.check(t, "Prune", wantWrites, 2*part)
	for i, id := range ids {
		rs, err := s.Results(ctx, id, day, day.AddDate(0, 0, 1), 100)
		if err != nil || len(rs) != hours-2 {
			t.Errorf("monitor %d: %d results left, %v; want %d", i, len(rs), err, hours-2)
		}
	}
}

// TestJanitorRestsBetweenParts: after each part but the last the janitor
// leaves the writer to the tests' results for at least as long as the
// part held it, and a rest cut short by the context ends the prune
// with no part more.
func TestJanitorRestsBetweenParts(t *testing.T) {
	ctx := context.Background()
	day := store.Truncate(store.Day, time.Now()).AddDate(0, 0, -2)
	const monitors, part = 10, 3
	s, ids := openMonitors(t, monitors)
	for _, id := range ids {
		record(t, s, id, day.Add(time.Minute), probe.StatusUp)
		record(t, s, id, day.Add(2*time.Minute), probe.StatusUp)
	}
	sqlstore.SetPartMonitors(t, part)
	const hold = 20 * time.Millisecond
	w := &counting{delay: hold}
	sqlstore.WrapWriter(s.Store, func(db sqlstore.DB) sqlstore.DB { w.DB = db; return w })
	var rests []time.Duration
	sqlstore.SetRest(t, func(_ context.Context, d time.Duration) error {
		rests = append(rests, d)
		return nil
	})

	n, err := s.Prune(ctx, day.Add(90*time.Second))
	if err != nil || n != monitors {
		t.Fatalf("Prune: %d, %v; want %d", n, err, monitors)
	}
	parts := (monitors + part - 1) / part
	if len(rests) != parts-1 {
		t.Errorf("%d parts, %d rests %v; want a rest after each part but the last", parts, len(rests), rests)
	}
	for _, d := range rests {
		if d < hold {
			t.Errorf("a rest of %v after a part that held the writer %v or more", d, hold)
		}
	}

	w.reset()
	rests = nil
	sqlstore.SetRest(t, func(_ context.Context, d time.Duration) error {
		rests = append(rests, d)
		return context.Canceled
	})
	n, err = s.Prune(ctx, day.Add(time.Hour))
	if !errors.Is(err, context.Canceled) || len(rests) != 1 || w.stmts != 1 {
		t.Errorf("Prune with its rest cut short: %v after %d statements and %d rests; want %v after 1 and 1",
			err, w.stmts, len(rests), context.Canceled)
	}
	if n > part {
		t.Errorf("Prune cut short deleted %d rows; want at most a part's %d", n, part)
	}
}

// counting is a writer that counts the transactions begun and the
// statements run on it, and the rows each changed.
type counting struct {
	sqlstore.DB
	delay      time.Duration // each statement's least time
	mu         sync.Mutex
	txs, stmts int
	rows       []int64
}

func (c *counting) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.txs, c.stmts, c.rows = 0, 0, nil
}

func (c *counting) count(n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stmts++
	c.rows = append(c.rows, n)
}

func (c *counting) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	time.Sleep(c.delay)
	n, err := c.DB.Exec(ctx, query, args...)
	c.count(n)
	return n, err
}

func (c *counting) Begin(ctx context.Context) (sqlstore.Tx, error) {
	tx, err := c.DB.Begin(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.txs++
	c.mu.Unlock()
	return &countingTx{Tx: tx, c: c}, nil
}

type countingTx struct {
	sqlstore.Tx
	c *counting
}

func (t *countingTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	n, err := t.Tx.Exec(ctx, query, args...)
	t.c.count(n)
	return n, err
}

// check: what was counted is statements writes, none changing more than
// most rows.
func (c *counting) check(t *testing.T, what string, statements int, most int64) {
	t.Helper()
	if c.stmts != statements {
		t.Errorf("%s: %d statements; want %d", what, c.stmts, statements)
	}
	for _, n := range c.rows {
		if n > most {
			t.Errorf("%s: a statement changed %d rows; want at most %d", what, n, most)
		}
	}
}
