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
// while Load reads its pages make it skip no other monitor; each never
// tested is placed at its slot by its rank by id (schedule.FirstSlots), whatever
// the order it was read in. With OFFSET pages (by device and name) the
// deletion shifted the second page, and the monitor at its start was
// never scheduled.
func TestLoadWhileMonitorsChange(t *testing.T) {
	ctx := t.Context()
	const n = 750 // a page and a half; names in another order than ids ("smtp10" before "smtp2")
	sq, before := smtpStore(t, n)
	st := &changingStore{Store: sq, t: t}
	now := time.Date(2026, 12, 6, 15, 0, 0, 0, time.UTC)
	e := noopEngine(st, now)
	must(t, e.Load(ctx))
	if st.added == 0 {
		t.Fatal("no monitor was created during the load")
	}

	// Never tested, every 60 s: each starts within the start window of n,
	// at its slot.
	// The first page was read before its first monitor was deleted:
	// Load places it too (the next look at the store unschedules it).
	var loaded []int64
	for _, m := range before {
		loaded = append(loaded, m.ID)
	}
	if e.sched.Has(st.added) {
		t.Logf("monitor %d, created during the load, was loaded too", st.added)
		loaded = append(loaded, st.added)
	}
	slices.Sort(loaded)
	slots, total := schedule.FirstSlots(len(loaded))
	spread := min(startWindow(n), time.Minute)
	for k, id := range loaded {
		due, ok := e.sched.Due(id)
		if !ok {
			t.Errorf("monitor %d not scheduled", id)
			continue
		}
		if want := now.Add(schedule.FirstAt(slots[k], total, spread)); !due.Equal(want) {
			t.Fatalf("monitor %d (%d of %d by id) due at +%v, want +%v", id, k, len(loaded), due.Sub(now), want.Sub(now))
		}
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

// TestLoadStartsNeverTestedInBlocks: the monitors never tested (no
// status, or pending) start in blocks of neighbours by id, each at its
// slot's share of the start window (schedule.FirstSlots), so that the writer's
// groups of first results are neighbours in the monitors table, its board
// indexes, the results and the state changes (BenchmarkRecordTestScale/
// first-neighbours: 4.1 pages written a result against 6.7 at random); a
// monitor tested before keeps its place by id (schedule.Spread). At their
// places by id (a hash), as before 2026-12-07, the first tests came in no
// order of ids; in id order (2026-12-07, from 50,000 monitors) a device's
// monitors came one after the other.
func TestLoadStartsNeverTestedInBlocks(t *testing.T) {
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
	must(t, e.Load(ctx))

	spread := min(startWindow(n), time.Minute)
	var first []int64
	for _, id := range ids {
		if !tested[id] {
			first = append(first, id)
		}
	}
	if len(first) <= 3*schedule.FirstBlock {
		t.Fatalf("%d monitors never tested, want more than three blocks", len(first))
	}
	slots, total := schedule.FirstSlots(len(first))
	var prev time.Time
	for k, id := range first {
		due, ok := e.sched.Due(id)
		if !ok {
			t.Fatalf("monitor %d not scheduled", id)
		}
		if want := now.Add(schedule.FirstAt(slots[k], total, spread)); !due.Equal(want) {
			t.Errorf("never tested monitor %d (%d of %d by id) due at +%v, want +%v", id, k, len(first), due.Sub(now), want.Sub(now))
		}
		if k%schedule.FirstBlock > 0 && !due.After(prev) {
			t.Errorf("never tested monitor %d due at +%v, not after the one before it in its block (+%v)", id, due.Sub(now), prev.Sub(now))
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
