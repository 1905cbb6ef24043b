package sqlite

import (
	"context"
	"path/filepath"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/state"
)

// TestTakenWriteOutlivesItsCaller: a caller whose context is cancelled
// once the writer has taken its write (lingering for company) neither
// fails its group nor loses its write: every member is committed, in one
// transaction.
func TestTakenWriteOutlivesItsCaller(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mailmon.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.linger = time.Hour // the group waits until Close
	const n = 8
	ids := monitors(t, s, n)
	cancels := make([]context.CancelFunc, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, id := range ids {
		ctx, cancel := context.WithCancel(t.Context())
		cancels[i] = cancel
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.RecordTest(ctx, upTest(id))
		}()
	}
	for s.groups.taken.Load() < n {
		time.Sleep(time.Millisecond) // the writer has no hook to wait on
	}
	cancels[n/2]()
	if err := s.Close(); err != nil { // commits the lingering group
		t.Fatal(err)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("test %d: %v", i, err)
		}
	}
	if whole, split := s.groups.whole.Load(), s.groups.split.Load(); whole != 1 || split != 0 {
		t.Errorf("%d groups committed whole, %d split; want 1 and 0", whole, split)
	}
	for _, c := range cancels {
		c()
	}
	s, err = Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, id := range ids {
		if st, err := s.Status(t.Context(), id); err != nil || st.Status.State != state.Up {
			t.Errorf("monitor %d: %+v %v", i, st, err)
		}
	}
}

// TestRecordTestWatchesNoContext: a test recorded under a context that
// can end (the engine's) starts no goroutine of its own in the driver
// (modernc.org/sqlite watches a statement's context with one): what is
// left is database/sql's one a transaction.
func TestRecordTestWatchesNoContext(t *testing.T) {
	s := openSQLite(t)
	s.linger = time.Millisecond
	id := monitors(t, s, 1)[0]
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if err := s.RecordTest(ctx, upTest(id)); err != nil { // the status made
		t.Fatal(err)
	}
	const n = 200
	txs0, created0 := s.groups.txs.Load(), goroutinesCreated()
	for range n {
		if err := s.RecordTest(ctx, upTest(id)); err != nil {
			t.Fatal(err)
		}
	}
	created, txs := goroutinesCreated()-created0, s.groups.txs.Load()-txs0
	t.Logf("%d tests, %d transactions, %d goroutines started", n, txs, created)
	if created > txs+n/10 {
		t.Errorf("%d tests in %d transactions started %d goroutines; want one a transaction (database/sql's)", n, txs, created)
	}
}

func goroutinesCreated() int64 {
	m := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(m)
	return int64(m[0].Value.Uint64())
}
