package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
)

// slowStore takes its time to read a monitor, as a large database does
// over thousands of them.
type slowStore struct {
	store.Store
	delay time.Duration
}

func (s slowStore) Monitor(ctx context.Context, id int64) (*store.Monitor, error) {
	time.Sleep(s.delay)
	return s.Store.Monitor(ctx, id)
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
