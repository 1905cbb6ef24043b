package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/storetest"
)

func open(t *testing.T) store.Store { return openSQLite(t) }

// openSQLite opens a new database in t's temporary directory, closed when
// t ends.
func openSQLite(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "mailmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) { storetest.Run(t, open) }

// TestSurvivesReopen: what was recorded is there after a restart, in the
// database at the path given, whatever characters it holds (a '#' or a
// '?' in a directory's name once opened another file).
func TestSurvivesReopen(t *testing.T) {
	for _, dir := range []string{"plain", "ops#2", "what?x=1", "100%25", "a b"} {
		t.Run(dir, func(t *testing.T) {
			ctx := context.Background()
			parent := t.TempDir()
			if err := os.Mkdir(filepath.Join(parent, dir), 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(parent, dir, "mailmon.db")
			s, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			d := &store.Device{Name: "d", Address: "d"}
			s.PutDevice(ctx, d)
			m := &store.Monitor{DeviceID: d.ID, Name: "m", Type: "smtp", Enabled: true}
			s.PutMonitor(ctx, m)
			s.RecordTest(ctx, store.Test{Status: store.Status{MonitorID: m.ID, Status: state.Status{State: state.Lost, AlertsSent: 5}},
				Result: store.Result{MonitorID: m.ID}})
			s.Close()
			if es, _ := os.ReadDir(parent); len(es) != 1 {
				t.Errorf("files beside %q: %v", dir, es)
			}
			if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
				t.Fatalf("nothing written to %s: %v", path, err) // but to another file
			}
			s, err = Open(ctx, path) // migrations run again: nothing to do
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			st, err := s.Status(ctx, m.ID)
			if err != nil || st.Status.State != state.Lost || st.Status.AlertsSent != 5 {
				t.Fatalf("after reopen: %+v %v", st, err)
			}
		})
	}
}

// TestRecentSurvivesRestart: the board's last results are kept across a
// restart, and filled on open where the column is NULL (as after 00016).
func TestRecentSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mailmon.db")
	storetest.RecentSurvivesRestart(t, func() store.Store {
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, func(id int64) {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`UPDATE monitor_status SET recent=NULL WHERE monitor_id=?`, id); err != nil {
			t.Fatal(err)
		}
	})
}

// TestGroupCommit: results that wait while the writer is busy are
// committed together, and a stale one among them sends the group back to
// be written one by one, where it alone is refused.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	s := open(t).(*Store)
	const n = 20
	ids := monitors(t, s, n)
	record := func(stale bool) []error {
		// Hold the one writer connection until every test is waiting.
		hold, err := s.wdb.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, _ := s.Status(ctx, id)
				version := int64(0)
				if v != nil {
					version = v.Version
				}
				if stale && i == n/2 {
					version += 5
				}
				errs[i] = s.RecordTest(ctx, store.Test{CheckVersion: true,
					Status: store.Status{MonitorID: id, Status: state.Status{State: state.Up}, Version: version},
					Result: store.Result{MonitorID: id, Time: time.Now()}})
			}()
		}
		for s.groups.waiting.Load() < n {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond) // from counted to blocked on the queue
		hold.Rollback()
		wg.Wait()
		return errs
	}
	for i, err := range record(false) {
		if err != nil {
			t.Errorf("test %d: %v", i, err)
		}
	}
	if s.groups.whole.Load() == 0 || s.groups.split.Load() != 0 {
		t.Fatalf("no group committed whole: %d whole, %d split", s.groups.whole.Load(), s.groups.split.Load())
	}
	for i, err := range record(true) {
		if (i == n/2) != errors.Is(err, store.ErrStale) {
			t.Errorf("test %d: %v", i, err)
		}
	}
	if s.groups.split.Load() == 0 {
		t.Fatal("the group holding a stale test was not split")
	}
	wantVersions(t, s, ids, n/2)
}

// wantVersions checks that every monitor's status was written twice, but
// that of ids[failed] once.
func wantVersions(t *testing.T, s store.Store, ids []int64, failed int) {
	t.Helper()
	for i, id := range ids {
		st, err := s.Status(context.Background(), id)
		want := int64(2)
		if i == failed {
			want = 1
		}
		if err != nil || st.Version != want {
			t.Errorf("monitor %d: %+v %v, want version %d", i, st, err, want)
		}
	}
}

// monitors makes n monitors on s.
func monitors(t testing.TB, s store.Store, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	d := &store.Device{Name: "d", Address: "d"}
	if err := s.PutDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range n {
		m := &store.Monitor{DeviceID: d.ID, Name: fmt.Sprint("m", i), Type: "smtp", Enabled: true}
		if err := s.PutMonitor(ctx, m); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	return ids
}

func upTest(id int64) store.Test {
	return store.Test{Status: store.Status{MonitorID: id, Status: state.Status{State: state.Up}},
		Result: store.Result{MonitorID: id, Time: time.Now()}}
}

// TestGroupLinger: results that come one after the other, a few
// milliseconds apart (as the daemon's tests, spread over the minute), are
// committed in a few transactions, not one each; a failing one among them
// fails only its own caller.
func TestGroupLinger(t *testing.T) {
	ctx := context.Background()
	s := open(t).(*Store)
	s.linger = time.Second // generous: the machine may be slow
	const n = 20
	ids := monitors(t, s, n)
	paced := func(fail int) []error {
		errs := make([]error, n)
		var wg sync.WaitGroup
		tick := time.NewTicker(3 * time.Millisecond) // pacing, not synchronisation
		defer tick.Stop()
		for i, id := range ids {
			<-tick.C
			wg.Add(1)
			go func() {
				defer wg.Done()
				tt := upTest(id)
				if i == fail {
					tt.Status.MonitorID = 1 << 40 // no such monitor: its status cannot be stored
				}
				errs[i] = s.RecordTest(ctx, tt)
			}()
		}
		wg.Wait()
		return errs
	}
	for i, err := range paced(-1) {
		if err != nil {
			t.Errorf("test %d: %v", i, err)
		}
	}
	if writes, txs := s.groups.writes.Load(), s.groups.txs.Load(); writes != n || txs > n/4 {
		t.Fatalf("%d writes in %d transactions, want at most %d", writes, txs, n/4)
	}
	for i, err := range paced(n / 2) {
		if (i == n/2) != (err != nil) {
			t.Errorf("test %d: %v", i, err)
		}
	}
	wantVersions(t, s, ids, n/2)
}

// TestGroupLingerAlone: results that come one at a time, each waited for
// (apply, a test), wait for the linger once in skipAfterIdle+1 writes, not
// every time.
func TestGroupLingerAlone(t *testing.T) {
	ctx := context.Background()
	s := open(t).(*Store)
	s.linger = time.Hour // a write that lingers never ends
	ids := monitors(t, s, 1)
	for range 3 * skipAfterIdle {
		if s.groups.writes.Load()%(skipAfterIdle+1) == 0 {
			s.linger = 5 * time.Millisecond // the one that lingers
		} else {
			s.linger = time.Hour
		}
		if err := s.RecordTest(ctx, upTest(ids[0])); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCloseEndsLinger: a result that waits for company is committed at
// once when the store closes.
func TestCloseEndsLinger(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mailmon.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.linger = time.Hour
	ids := monitors(t, s, 1)
	done := make(chan error, 1)
	go func() { done <- s.RecordTest(ctx, upTest(ids[0])) }()
	for s.groups.taken.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st, err := s.Status(ctx, ids[0]); err != nil || st.Status.State != state.Up {
		t.Fatalf("after close: %+v %v", st, err)
	}
}

// TestGroupBurst: results waiting together are committed in groups of
// up to defaultMaxGroup: a burst of 256 (at 100,000 monitors, 1,667 tests
// a second, a linger gathers ~90 and a slow commit more) takes one
// transaction, not four.
func TestGroupBurst(t *testing.T) {
	ctx := context.Background()
	s := open(t).(*Store)
	s.linger = 10 * time.Second // generous: a group of 256 ends when full
	const n = 256
	ids := monitors(t, s, n)
	txs0 := s.groups.txs.Load()
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			if err := s.RecordTest(ctx, upTest(id)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if txs := s.groups.txs.Load() - txs0; txs != 1 {
		t.Errorf("a burst of %d results took %d transactions, want 1", n, txs)
	}
	for _, id := range ids {
		if st, err := s.Status(ctx, id); err != nil || st.Version != 1 {
			t.Fatalf("monitor %d: %+v %v, want version 1", id, st, err)
		}
	}
}

// TestWALCutBack: a WAL grown past walSizeLimit (by a long transaction,
// or by writes while a long read kept checkpoints back) is cut back to it
// once checkpointed and written again; it used to keep its size.
func TestWALCutBack(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mailmon.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	wal := path + "-wal"
	if _, err := s.wdb.ExecContext(ctx, `CREATE TABLE bulk(b BLOB)`); err != nil {
		t.Fatal(err)
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range (walSizeLimit + 16<<20) / (64 << 10) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO bulk VALUES(zeroblob(65536))`); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(wal); err != nil || fi.Size() <= walSizeLimit {
		t.Fatalf("the WAL after the big transaction: %v, %v; want more than %d bytes", fi.Size(), err, walSizeLimit)
	}
	// The commit's checkpoint copied the log; the next write starts it over.
	if _, err := s.wdb.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.wdb.ExecContext(ctx, `DELETE FROM bulk WHERE rowid = 1`); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(wal); err != nil || fi.Size() > walSizeLimit {
		t.Fatalf("the WAL once started over: %d bytes, %v; want at most %d", fi.Size(), err, walSizeLimit)
	}
}
