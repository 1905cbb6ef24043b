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

// listingStore counts full listings of the monitors.
type listingStore struct {
	*sqlite.Store
	listings atomic.Int64
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
