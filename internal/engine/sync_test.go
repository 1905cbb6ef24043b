package engine

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
)

// listingStore counts full listings of the monitors, and readings of
// their versions.
type listingStore struct {
	*sqlite.Store
	listings, versions atomic.Int64
}

func (s *listingStore) MonitorVersions(ctx context.Context) (map[int64]time.Time, error) {
	s.versions.Add(1)
	return s.Store.MonitorVersions(ctx)
}

func (s *listingStore) Monitors(ctx context.Context, f store.MonitorFilter) ([]store.Monitor, int, error) {
	s.listings.Add(1)
	return s.Store.Monitors(ctx, f)
}

// TestSyncReadsVersionsOnly: looking for changed monitors (every
// WatchEvery) reads their versions, not their settings, when the store
// can: no full listing; and it still finds a new, a changed and a deleted
// monitor.
func TestSyncReadsVersionsOnly(t *testing.T) {
	ctx := t.Context()
	sq, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mailmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	st := &listingStore{Store: sq}
	d := &store.Device{Name: "d", Address: "127.0.0.1"}
	must(t, st.PutDevice(ctx, d))
	spec, _ := json.Marshal(config.Monitor{Port: 25, Timing: config.Timing{MaxDuration: config.Duration(time.Second), UpEvery: config.Duration(time.Hour)}})
	put := func(name string) *store.Monitor {
		m := &store.Monitor{DeviceID: d.ID, Name: name, Type: "smtp", Enabled: true, Spec: spec}
		must(t, st.PutMonitor(ctx, m))
		return m
	}
	a := put("a")
	e := New(Options{Store: st})
	must(t, e.Load(ctx))
	loaded := func(id int64) *entry {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.monitors[id]
	}
	b := put("b")
	must(t, e.sync(ctx))
	if loaded(b.ID) == nil {
		t.Fatal("a new monitor was not loaded")
	}
	time.Sleep(2 * time.Millisecond) // a later updated_ms, not a synchronisation
	a.Enabled = false
	must(t, st.PutMonitor(ctx, a))
	must(t, st.DeleteMonitor(ctx, b.ID))
	before := st.listings.Load()
	must(t, e.sync(ctx))
	if en := loaded(a.ID); en != nil && en.m.Enabled {
		t.Error("a changed monitor was not reloaded")
	}
	if loaded(b.ID) != nil {
		t.Error("a deleted monitor is still loaded")
	}
	if n := st.listings.Load() - before; n != 0 {
		t.Errorf("sync listed the monitors in full %d times, want versions only", n)
	}
}

// TestSyncSkipsUnchanged: while the monitors' fingerprint is unchanged the
// engine does not read every monitor's version, but for a full look every
// fullSyncEvery; a change is found at the next look.
func TestSyncSkipsUnchanged(t *testing.T) {
	ctx := t.Context()
	sq, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mailmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	st := &listingStore{Store: sq}
	d := &store.Device{Name: "d", Address: "127.0.0.1"}
	must(t, st.PutDevice(ctx, d))
	spec, _ := json.Marshal(config.Monitor{Port: 25, Timing: config.Timing{MaxDuration: config.Duration(time.Second), UpEvery: config.Duration(time.Hour)}})
	a := &store.Monitor{DeviceID: d.ID, Name: "a", Type: "smtp", Enabled: true, Spec: spec}
	must(t, st.PutMonitor(ctx, a))
	e := New(Options{Store: st})
	must(t, e.Load(ctx))
	must(t, e.sync(ctx)) // the first look is a full one
	before := st.versions.Load()
	for range fullSyncEvery - 1 {
		must(t, e.sync(ctx))
	}
	if n := st.versions.Load() - before; n != 0 {
		t.Errorf("%d looks with nothing changed read the versions %d times, want none", fullSyncEvery-1, n)
	}
	must(t, e.sync(ctx))
	if n := st.versions.Load() - before; n != 1 {
		t.Errorf("look %d read the versions %d times, want one full look", fullSyncEvery, n)
	}
	time.Sleep(2 * time.Millisecond) // a later updated_ms, not a synchronisation
	a.Enabled = false
	must(t, st.PutMonitor(ctx, a))
	must(t, e.sync(ctx))
	e.mu.Lock()
	en := e.monitors[a.ID]
	e.mu.Unlock()
	if en != nil && en.m.Enabled {
		t.Error("a changed monitor was not reloaded at the next look")
	}
}
