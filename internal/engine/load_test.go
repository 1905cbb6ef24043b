package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
)

// slowStore takes its time over each monitor loaded (reading its
// alerts, one read a monitor), as a large database does over thousands
// of them.
type slowStore struct {
	store.Store
	delay time.Duration
}

func (s slowStore) MonitorAlerts(ctx context.Context, id int64) ([]int64, error) {
	time.Sleep(s.delay)
	return s.Store.MonitorAlerts(ctx, id)
}

// TestLoadPlacesAfterReading: monitors are placed in their start window
// from the end of loading, so however long reading them takes, none is
// already late when the scheduler starts. Placed as each was read, the
// first ones read would be due up to the whole load time before it.
func TestLoadPlacesAfterReading(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "load.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d := &store.Device{Name: "d", Address: "127.0.0.1"}
	must(t, st.PutDevice(ctx, d))
	const n = 100
	spec, _ := json.Marshal(config.Monitor{Port: 25, Timing: config.Timing{MaxDuration: config.Duration(time.Second), UpEvery: config.Duration(time.Hour)}})
	for i := 0; i < n; i++ {
		must(t, st.PutMonitor(ctx, &store.Monitor{DeviceID: d.ID, Name: fmt.Sprint("m", i), Type: "tcp", Enabled: true, Spec: spec}))
	}
	noop := func(context.Context, *probe.Config, *probe.Trace) error { return nil }
	e := New(Options{Store: slowStore{st, 20 * time.Millisecond}, Probers: func(string) (probe.Prober, bool) { return noop, true }})
	start := time.Now()
	must(t, e.Load(ctx))
	loaded := time.Since(start) // 2 s; the start window is 2.3 s
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	// The scheduler's goroutines wake as late as the machine lets them
	// (a tenth of a second and more at load 20): a goroutine woken every
	// 10 ms beside them measures that, and the bound adds it. Placed as
	// read, the first tests would be about the load time late (2 s).
	_, stalled := hostile.Stalled(func() {
		deadline := time.Now().Add(startWindow(n) + 10*time.Second)
		for e.Scheduler().Stats().Started < n && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	})
	s := e.Scheduler().Stats()
	if s.Started < n {
		t.Fatalf("%d of %d monitors tested", s.Started, n)
	}
	t.Logf("loading took %v; the tests started up to %v late (p99 %v); the machine stalled up to %v", loaded.Round(time.Millisecond),
		s.LagMax, s.LagP99, stalled)
	if s.LagMax > 300*time.Millisecond+stalled {
		t.Errorf("the first tests started up to %v late, more than 300 ms + %v the machine stalled", s.LagMax, stalled)
	}
}

// readCounter counts the store's reads of one monitor, device, status
// or monitor's alerts.
type readCounter struct {
	store.Store
	monitors, devices, statuses, alerts atomic.Int64
}

func (c *readCounter) MonitorAlerts(ctx context.Context, id int64) ([]int64, error) {
	c.alerts.Add(1)
	return c.Store.MonitorAlerts(ctx, id)
}

func (c *readCounter) MonitorsAlerts(ctx context.Context, ids []int64) (map[int64][]int64, error) {
	return c.Store.(store.MonitorsAlerts).MonitorsAlerts(ctx, ids)
}

func (c *readCounter) Monitor(ctx context.Context, id int64) (*store.Monitor, error) {
	c.monitors.Add(1)
	return c.Store.Monitor(ctx, id)
}

func (c *readCounter) Device(ctx context.Context, id int64) (*store.Device, error) {
	c.devices.Add(1)
	return c.Store.Device(ctx, id)
}

func (c *readCounter) Status(ctx context.Context, id int64) (*store.Status, error) {
	c.statuses.Add(1)
	return c.Store.Status(ctx, id)
}

// TestLoadReadsEachDeviceOnce: Load takes each monitor as listed, reads
// each device once for its monitors and the statuses and alerts a page
// at a time, not each again for every monitor (four reads a monitor were
// 3 of the load's 4 CPU seconds at 20,000 monitors); a stored status is
// still the state a monitor starts from, its alerts still its own.
func TestLoadReadsEachDeviceOnce(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "load.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	spec, _ := json.Marshal(config.Monitor{Port: 25, Timing: config.Timing{MaxDuration: config.Duration(time.Second), UpEvery: config.Duration(time.Hour)}})
	const devices, per = 3, 400 // the load's pages are 500 monitors
	var down int64
	hook := &store.Alert{Name: "hook", Kind: "webhook", Spec: json.RawMessage(`{}`)}
	must(t, st.PutAlert(ctx, hook))
	for d := range devices {
		dev := &store.Device{Name: fmt.Sprint("d", d), Address: "127.0.0.1"}
		must(t, st.PutDevice(ctx, dev))
		for i := range per {
			m := &store.Monitor{DeviceID: dev.ID, Name: fmt.Sprint("m", i), Type: "tcp", Enabled: true, Spec: spec}
			must(t, st.PutMonitor(ctx, m))
			down = m.ID
		}
	}
	must(t, st.SetMonitorAlerts(ctx, down, []int64{hook.ID}))
	now := time.Now()
	must(t, st.RecordTest(ctx, store.Test{Status: store.Status{MonitorID: down, Status: state.Status{State: state.Down, Since: now}, LastTest: now},
		Result: store.Result{MonitorID: down, Time: now, Status: probe.StatusDown}}))
	c := &readCounter{Store: st}
	noop := func(context.Context, *probe.Config, *probe.Trace) error { return nil }
	e := New(Options{Store: c, Probers: func(string) (probe.Prober, bool) { return noop, true }})
	must(t, e.Load(ctx))
	if len(e.monitors) != devices*per {
		t.Fatalf("%d monitors loaded, want %d", len(e.monitors), devices*per)
	}
	if m, d, s, a := c.monitors.Load(), c.devices.Load(), c.statuses.Load(), c.alerts.Load(); m != 0 || d != devices || s != 0 || a != 0 {
		t.Errorf("loading %d monitors of %d devices read %d monitors, %d devices, %d statuses and %d monitors' alerts one by one; want 0, %d, 0 and 0",
			devices*per, devices, m, d, s, a, devices)
	}
	if got := e.monitors[down].alerts; !slices.Equal(got, []int64{hook.ID}) {
		t.Errorf("the monitor with an alert has alerts %v, want [%d]", got, hook.ID)
	}
	if got := e.monitors[down-1].alerts; len(got) != 0 {
		t.Errorf("a monitor without alerts has %v", got)
	}
	if got := e.status[down].State; got != state.Down {
		t.Errorf("the monitor stored down starts %q, want down", got)
	}
	if got := e.status[down-1].State; got != "" {
		t.Errorf("a monitor never tested starts %q, want no state", got)
	}
	for id, en := range e.monitors {
		if en.dev().Name == "" {
			t.Fatalf("monitor %d: no device", id)
		}
	}
}
