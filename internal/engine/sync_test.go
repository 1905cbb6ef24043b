package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/postgres"
	"github.com/mailmon/mailmon/internal/testutil/realpg"
)

// TestSyncReadsVersionsOnly: looking for changed monitors (every
// WatchEvery) reads their versions, not their settings, when the store
// can: no full listing; and it still finds a new, a changed and a deleted
// monitor.
func TestSyncReadsVersionsOnly(t *testing.T) {
	ctx := t.Context()
	st := &readsStore{versionedStore: openTestStore(t)}
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

// versionedStore is a store that offers MonitorVersions (both stores do).
type versionedStore interface {
	store.Store
	store.MonitorVersions
}

// readsStore counts the engine's reads of many rows: the monitors' versions
// or their full listing, the devices and the credentials.
type readsStore struct {
	versionedStore
	versions, listings, devices, credentials atomic.Int64
	failMonitor                              atomic.Bool
}

func (s *readsStore) MonitorVersions(ctx context.Context) (map[int64]time.Time, error) {
	s.versions.Add(1)
	return s.versionedStore.MonitorVersions(ctx)
}

func (s *readsStore) Monitors(ctx context.Context, f store.MonitorFilter) ([]store.Monitor, int, error) {
	s.listings.Add(1)
	return s.versionedStore.Monitors(ctx, f)
}

func (s *readsStore) Devices(ctx context.Context, p store.Page) ([]store.Device, int, error) {
	s.devices.Add(1)
	return s.versionedStore.Devices(ctx, p)
}

func (s *readsStore) Credentials(ctx context.Context, p store.Page) ([]store.Credential, int, error) {
	s.credentials.Add(1)
	return s.versionedStore.Credentials(ctx, p)
}

// Monitor fails while failMonitor is set (a store that fails a reload).
func (s *readsStore) Monitor(ctx context.Context, id int64) (*store.Monitor, error) {
	if s.failMonitor.Load() {
		return nil, errors.New("the store failed")
	}
	return s.versionedStore.Monitor(ctx, id)
}

// reads are the lists s read since the last call.
func (s *readsStore) reads() string {
	return fmt.Sprintf("versions %d, listings %d, devices %d, credentials %d",
		s.versions.Swap(0), s.listings.Swap(0), s.devices.Swap(0), s.credentials.Swap(0))
}

const noReads = "versions 0, listings 0, devices 0, credentials 0"

// TestSyncUnchangedReadsNothing: a look for changes (every WatchEvery)
// that finds nothing written reads no list of monitors, devices or
// credentials, whatever their number (it read every device and credential
// at each look, and summed up every monitor's version in the database);
// a credential written reads the credentials only; and each kind of
// change made behind the engine's back is still found at the next look:
// a monitor created, changed, given alerts or deleted, a device changed or
// deleted with its monitors. On SQLite, on PostgreSQL, and on a cluster
// (where every look compared every monitor).
func TestSyncUnchangedReadsNothing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pg      bool
		cluster bool
	}{{"sqlite", false, false}, {"postgres", true, false}, {"cluster", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			var vs versionedStore
			var o Options
			if tc.pg {
				pg, err := postgres.Open(ctx, realpg.NewDB(t))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { pg.Close() })
				vs = pg
				if tc.cluster {
					o = Options{Node: store.Node{ID: "n1", Name: "n1"}, Cluster: pg, Lease: time.Minute}
				}
			} else {
				vs = openTestStore(t)
			}
			st := &readsStore{versionedStore: vs}
			o.Store = st
			syncUnchanged(t, st, o)
		})
	}
}

func syncUnchanged(t *testing.T, st *readsStore, o Options) {
	ctx := t.Context()
	d := putDevice(t, st, "d", false)
	spec, _ := json.Marshal(config.Monitor{Port: 25, Timing: config.Timing{MaxDuration: config.Duration(time.Second), UpEvery: config.Duration(time.Hour)}})
	put := func(dev int64, name string) *store.Monitor {
		m := &store.Monitor{DeviceID: dev, Name: name, Type: "smtp", Enabled: true, Spec: spec}
		must(t, st.PutMonitor(ctx, m))
		return m
	}
	a, b := put(d.ID, "a"), put(d.ID, "b")
	e := New(o)
	must(t, e.Load(ctx))
	loaded := func(id int64) *entry {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.monitors[id]
	}
	must(t, e.sync(ctx)) // the first look is a full one
	st.reads()
	for range 5 {
		must(t, e.sync(ctx))
	}
	if got := st.reads(); got != noReads {
		t.Errorf("5 looks with nothing written read %s, want %s", got, noReads)
	}
	// A change made in the millisecond the monitor was loaded in is not
	// told from it by its version (the full look compares versions).
	tick := func() { time.Sleep(2 * time.Millisecond) }

	c := put(d.ID, "c")
	must(t, e.sync(ctx))
	if loaded(c.ID) == nil {
		t.Error("a monitor created was not loaded at the next look")
	}
	tick()
	a.Enabled = false
	must(t, st.PutMonitor(ctx, a))
	must(t, e.sync(ctx))
	if en := loaded(a.ID); en == nil || en.m.Enabled {
		t.Error("a monitor changed was not reloaded at the next look")
	}
	al := &store.Alert{Name: "hook", Kind: "webhook", Spec: json.RawMessage(`{"url":"http://127.0.0.1:9/"}`)}
	must(t, st.PutAlert(ctx, al))
	tick()
	must(t, st.SetMonitorAlerts(ctx, b.ID, []int64{al.ID}))
	must(t, e.sync(ctx))
	if en := loaded(b.ID); en == nil || len(en.alerts) != 1 {
		t.Error("a monitor given an alert was not reloaded at the next look")
	}
	tick()
	d.Maintenance = json.RawMessage(`[{"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"}]`)
	must(t, st.PutDevice(ctx, d))
	must(t, e.sync(ctx))
	if en := loaded(b.ID); en == nil || !en.dev().Updated.Equal(d.Updated) {
		t.Error("the monitors of a device changed were not reloaded at the next look")
	}
	st.reads()
	must(t, st.PutCredential(ctx, &store.Credential{Name: "ops", Spec: json.RawMessage(`{"user":"ops"}`)}))
	must(t, e.sync(ctx))
	if got, want := st.reads(), "versions 0, listings 0, devices 0, credentials 1"; got != want {
		t.Errorf("a look after a credential was written read %s, want %s", got, want)
	}
	must(t, st.DeleteMonitor(ctx, c.ID))
	must(t, e.sync(ctx))
	if loaded(c.ID) != nil {
		t.Error("a monitor deleted is still loaded after the next look")
	}
	d2 := putDevice(t, st, "d2", false)
	x := put(d2.ID, "x")
	must(t, e.sync(ctx))
	must(t, st.DeleteDevice(ctx, d2.ID))
	must(t, e.sync(ctx))
	if loaded(x.ID) != nil {
		t.Error("the monitor of a device deleted is still loaded after the next look")
	}
	st.reads()
	must(t, e.sync(ctx))
	if got := st.reads(); got != noReads {
		t.Errorf("a look with nothing written since the last read %s, want %s", got, noReads)
	}
}

// TestSyncFullEvery: with nothing written, a look still compares every
// monitor every fullSyncEvery looks (the safety net).
func TestSyncFullEvery(t *testing.T) {
	ctx := t.Context()
	st := &readsStore{versionedStore: openTestStore(t)}
	d := putDevice(t, st, "d", false)
	spec, _ := json.Marshal(config.Monitor{Port: 25, Timing: config.Timing{MaxDuration: config.Duration(time.Second), UpEvery: config.Duration(time.Hour)}})
	must(t, st.PutMonitor(ctx, &store.Monitor{DeviceID: d.ID, Name: "a", Type: "smtp", Enabled: true, Spec: spec}))
	e := New(Options{Store: st})
	must(t, e.Load(ctx))
	must(t, e.sync(ctx)) // the first look is a full one
	st.versions.Store(0)
	for range fullSyncEvery - 1 {
		must(t, e.sync(ctx))
	}
	if n := st.versions.Load(); n != 0 {
		t.Errorf("%d looks with nothing changed read the versions %d times, want none", fullSyncEvery-1, n)
	}
	must(t, e.sync(ctx))
	if n := st.versions.Load(); n != 1 {
		t.Errorf("look %d read the versions %d times, want one full look", fullSyncEvery, n)
	}
}

// TestSyncAfterFailedReload: a reload that failed (through the API, a
// cluster's adoption) left what is loaded of a monitor older than the
// store: the next look compares every monitor, though nothing was
// written since.
func TestSyncAfterFailedReload(t *testing.T) {
	ctx := t.Context()
	st := &readsStore{versionedStore: openTestStore(t)}
	d := putDevice(t, st, "d", false)
	spec, _ := json.Marshal(config.Monitor{Port: 25, Timing: config.Timing{MaxDuration: config.Duration(time.Second), UpEvery: config.Duration(time.Hour)}})
	m := &store.Monitor{DeviceID: d.ID, Name: "a", Type: "smtp", Enabled: true, Spec: spec}
	must(t, st.PutMonitor(ctx, m))
	e := New(Options{Store: st})
	must(t, e.Load(ctx))
	must(t, e.sync(ctx)) // the first look is a full one
	must(t, e.sync(ctx))
	st.versions.Store(0)
	st.failMonitor.Store(true)
	if err := e.Reload(ctx, m.ID); err == nil {
		t.Fatal("a reload from a failing store did not fail")
	}
	st.failMonitor.Store(false)
	must(t, e.sync(ctx))
	if n := st.versions.Load(); n != 1 {
		t.Errorf("the look after a failed reload read the versions %d times, want one full look", n)
	}
}
