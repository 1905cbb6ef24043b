package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/store/sqlstore"
)

// TestRollUpInParts: the hourly roll-up reads an hour's results in parts
// (each its own read, which SQLite's log can be checkpointed between),
// a part ending at a monitor's first row: over hours with a different
// number of results a monitor, parts of every size from a row to more than
// a monitor's, every monitor's roll-up counts each of its results once.
func TestRollUpInParts(t *testing.T) {
	ctx := context.Background()
	h0 := store.Truncate(store.Hour, time.Now().Add(-5*time.Hour))
	const monitors, hours = 40, 3
	s, ids := openMonitors(t, monitors)
	for i, id := range ids {
		// monitor i has 1 + (i+h)%4 results in hour h, every other one down
		for h := range hours {
			for k := range results(i, h) {
				st := probe.StatusUp
				if k%2 == 1 {
					st = probe.StatusDown
				}
				record(t, s, id, h0.Add(time.Duration(h)*time.Hour+time.Duration(k+1)*time.Minute), st)
			}
		}
	}
	for _, part := range []int{1, 2, 3, 5, 7, 1 << 19} {
		t.Run(fmt.Sprint(part), func(t *testing.T) {
			sqlstore.SetRollReadRows(t, part)
			if _, err := s.PruneRollups(ctx, store.Hour, time.Now()); err != nil { // the last subtest's
				t.Fatal(err)
			}
			if err := s.RollUp(ctx, store.Hour, h0, h0.Add(hours*time.Hour)); err != nil {
				t.Fatal(err)
			}
			for i, id := range ids {
				rs, err := s.Rollups(ctx, id, store.Hour, h0, h0.Add(hours*time.Hour))
				if err != nil || len(rs) != hours {
					t.Fatalf("monitor %d: %d hours rolled up, %v; want %d", i, len(rs), err, hours)
				}
				for h, r := range rs {
					n := results(i, h)
					if r.Tests != n || r.Up != (n+1)/2 || r.Down != n/2 {
						t.Errorf("monitor %d, hour %d: %d tests, %d up, %d down; want %d, %d, %d", i, h, r.Tests, r.Up, r.Down, n, (n+1)/2, n/2)
					}
				}
			}
		})
	}
}

// results is how many results monitor i has in hour h of the test.
func results(i, h int) int { return 1 + (i+h)%4 }

// openMonitors opens a SQLite store with n monitors of a device, closed
// when the test ends, and returns their ids.
func openMonitors(t *testing.T, n int) (*sqlite.Store, []int64) {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	d := &store.Device{Name: "d", Address: "d"}
	if err := s.PutDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range n {
		m := &store.Monitor{DeviceID: d.ID, Name: fmt.Sprint("m", i), Type: "smtp", Enabled: true, Spec: json.RawMessage(`{}`)}
		if err := s.PutMonitor(ctx, m); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	return s, ids
}

// record stores a test of monitor id at a time.
func record(t *testing.T, s *sqlite.Store, id int64, at time.Time, st probe.Status) {
	t.Helper()
	if err := s.RecordTest(context.Background(), store.Test{
		Result: store.Result{MonitorID: id, Time: at, Status: st, RTT: time.Millisecond},
		Status: store.Status{MonitorID: id, Status: state.Status{State: state.Up}, LastTest: at},
	}); err != nil {
		t.Fatal(err)
	}
}
