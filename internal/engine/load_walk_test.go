package engine

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/schedule"
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
// read in. With OFFSET pages (by device and name) the deletion shifted the
// second page, and the monitor at its start was never scheduled.
func TestLoadWhileMonitorsChange(t *testing.T) {
	ctx := t.Context()
	sq, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "load.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	const n = 750 // a page and a half; names in another order than ids ("smtp10" before "smtp2")
	smtpMonitors(t, sq, 3, n/3, certs.NewCA(t).File(t))
	before, _, err := sq.Monitors(ctx, store.MonitorFilter{Page: store.Page{Limit: n}})
	must(t, err)
	st := &changingStore{Store: sq, t: t}
	now := time.Date(2026, 12, 6, 15, 0, 0, 0, time.UTC)
	noop := func(context.Context, *probe.Config, *probe.Trace) error { return nil }
	e := New(Options{Store: st, Now: func() time.Time { return now }, Probers: func(string) (probe.Prober, bool) { return noop, true }})
	must(t, e.Load(ctx))

	// Never tested, every 60 s: each starts within the start window of n.
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
