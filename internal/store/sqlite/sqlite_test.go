package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/storetest"
)

func open(t *testing.T) store.Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "mailmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) { storetest.Run(t, open) }

// TestSurvivesReopen: what was recorded is there after a restart.
func TestSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mailmon.db")
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
	s, err = Open(ctx, path) // migrations run again: nothing to do
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Status(ctx, m.ID)
	if err != nil || st.Status.State != state.Lost || st.Status.AlertsSent != 5 {
		t.Fatalf("after reopen: %+v %v", st, err)
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
	d := &store.Device{Name: "d", Address: "d"}
	if err := s.PutDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	const n = 20
	var ids []int64
	for i := range n {
		m := &store.Monitor{DeviceID: d.ID, Name: fmt.Sprint("m", i), Type: "smtp", Enabled: true}
		if err := s.PutMonitor(ctx, m); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
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
	for i, id := range ids {
		st, err := s.Status(ctx, id)
		want := int64(2)
		if i == n/2 {
			want = 1
		}
		if err != nil || st.Version != want {
			t.Errorf("monitor %d: %+v %v, want version %d", i, st, err, want)
		}
	}
}
