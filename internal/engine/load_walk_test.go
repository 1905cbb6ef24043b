package engine

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/schedule"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/testutil/certs"
)

// changingStore deletes the first monitor of Load's first page, and
// creates one on a new device, once that page is read: an operator's
// changes while a daemon starts.
type changingStore struct {
	*sqlite.Store
	t              *testing.T
	pages          int
	deleted, added int64
}

func (s *changingStore) Monitors(ctx context.Context, f store.MonitorFilter) ([]store.Monitor, int, error) {
	ms, total, err := s.Store.Monitors(ctx, f)
	if s.pages++; s.pages == 1 && err == nil && len(ms) > 0 {
		s.deleted = ms[0].ID
		must(s.t, s.Store.DeleteMonitor(ctx, s.deleted))
		d := &store.Device{Name: "added", Address: "127.0.0.1"}
		must(s.t, s.Store.PutDevice(ctx, d))
		m := &store.Monitor{DeviceID: d.ID, Name: "added", Type: "smtp", Enabled: true, Spec: ms[0].Spec}
		must(s.t, s.Store.PutMonitor(ctx, m))
		s.added = m.ID
	}
	return ms, total, err
}

// TestLoadWhileMonitorsChange: a monitor deleted and another created
// while Load reads its pages make it skip no other monitor; each is
// placed at its place by id (schedule.Spread), whatever the order it was
// read in. With OFFSET pages (by device and name) the deletion shifted
// the second page, and the monitor at its start was never scheduled.
func TestLoadWhileMonitorsChange(t *testing.T) {
	ctx := t.Context()
	const n = 750 // a page and a half; names in another order than ids ("smtp10" before "smtp2")
	sq, before := smtpStore(t, n)
	st := &changingStore{Store: sq, t: t}
	now := time.Date(2026, 12, 6, 15, 0, 0, 0, time.UTC)
	e := noopEngine(st, now)
	must(t, e.Load(ctx))

	// Never tested, every 60 s: each starts within the start window of n,
	// at its place by id (fewer than firstByIDFrom).
	spread := min(startWindow(n), time.Minute)
	for _, m := range before {
		if m.ID == st.deleted {
			continue
		}
		due, ok := e.sched.Due(m.ID)
		if !ok {
			t.Errorf("monitor %d (%d/%s) not scheduled", m.ID, m.DeviceID, m.Name)
			continue
		}
		if want := schedule.Spread(m.ID, spread, now); !due.Equal(want) {
			t.Errorf("monitor %d due %v, want %v (its place by id)", m.ID, due, want)
		}
	}
	if st.added == 0 {
		t.Fatal("no monitor was created during the load")
	}
	if e.sched.Has(st.added) {
		t.Logf("monitor %d, created during the load, was loaded too", st.added)
	}
}

// smtpStore is a new SQLite store with n smtp monitors on three devices
// (smtpMonitors), closed when t ends, and its monitors.
func smtpStore(t *testing.T, n int) (*sqlite.Store, []store.Monitor) {
	t.Helper()
	sq, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "load.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close() })
	smtpMonitors(t, sq, 3, n/3, certs.NewCA(t).File(t))
	ms, _, err := sq.Monitors(t.Context(), store.MonitorFilter{Page: store.Page{Limit: n}})
	must(t, err)
	return sq, ms
}

// noopEngine is an engine on st whose clock stands at now and whose
// probes pass without a sound.
func noopEngine(st store.Store, now time.Time) *Engine {
	noop := func(context.Context, *probe.Config, *probe.Trace) error { return nil }
	return New(Options{Store: st, Now: func() time.Time { return now }, Probers: func(string) (probe.Prober, bool) { return noop, true }})
}

// TestLoadStartsNeverTestedByID: the monitors never tested (no status,
// or pending), as many as firstByID (here lowered to half of them), start
// in the order of their ids, each at its share of the start window, so
// that the writer's groups of first results are neighbours in the
// monitors table, its board indexes, the results and the state changes (BenchmarkRecordTestScale/first-neighbours: 4.1 pages
// written a result against 6.7 at random); a monitor tested before keeps
// its place by id (schedule.Spread). At their places by id (a hash), as
// before, the first tests came in no order of ids.
func TestLoadStartsNeverTestedByID(t *testing.T) {
	ctx := t.Context()
	const n = 120
	sq, all := smtpStore(t, n)
	ids := make([]int64, 0, n)
	for _, m := range all {
		ids = append(ids, m.ID)
	}
	slices.Sort(ids)
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	// Every seventh tested before (up), every eleventh pending.
	tested := map[int64]bool{}
	for i, id := range ids {
		var s state.State
		switch {
		case i%7 == 3:
			s, tested[id] = state.Up, true
		case i%11 == 5:
			s = state.Pending
		default:
			continue
		}
		must(t, sq.RecordTest(ctx, store.Test{Status: store.Status{MonitorID: id, Status: state.Status{State: s, Since: now.Add(-time.Hour)},
			LastTest: now.Add(-30 * time.Second)}, Interval: time.Minute}))
	}
	e := noopEngine(sq, now)
	e.firstByID = n / 2 // as many as firstByIDFrom at 100,000
	must(t, e.Load(ctx))

	spread := min(startWindow(n), time.Minute)
	var first []int64
	for _, id := range ids {
		if !tested[id] {
			first = append(first, id)
		}
	}
	var prev time.Time
	for k, id := range first {
		due, ok := e.sched.Due(id)
		if !ok {
			t.Fatalf("monitor %d not scheduled", id)
		}
		if want := now.Add(firstAt(k, len(first), spread)); !due.Equal(want) {
			t.Errorf("never tested monitor %d (%d of %d by id) due at +%v, want +%v", id, k, len(first), due.Sub(now), want.Sub(now))
		}
		if k > 0 && !due.After(prev) {
			t.Errorf("never tested monitor %d due at +%v, not after the one before it by id (+%v)", id, due.Sub(now), prev.Sub(now))
		}
		prev = due
	}
	for id := range tested {
		due, ok := e.sched.Due(id)
		if !ok {
			t.Fatalf("monitor %d not scheduled", id)
		}
		if want := schedule.Spread(id, time.Minute, now); !due.Equal(want) {
			t.Errorf("tested monitor %d due at +%v, want its place by id +%v", id, due.Sub(now), want.Sub(now))
		}
	}
}

// TestFirstAt: the kth of n at its share of the spread, the first at
// once, none at its end; no overflow for a day's interval.
func TestFirstAt(t *testing.T) {
	for _, c := range []struct {
		k, n   int
		spread time.Duration
		want   time.Duration
	}{
		{0, 1, time.Minute, 0},
		{1, 4, time.Minute, 15 * time.Second},
		{99_999, 100_000, time.Minute, time.Minute - 600*time.Microsecond},
		{999_999, 1_000_000, 24 * time.Hour, 24*time.Hour - 86400*time.Microsecond},
	} {
		if got := firstAt(c.k, c.n, c.spread); got != c.want {
			t.Errorf("firstAt(%d, %d, %v) = %v, want %v", c.k, c.n, c.spread, got, c.want)
		}
	}
}
