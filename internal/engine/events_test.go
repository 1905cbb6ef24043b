package engine

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
)

// TestSubscribe: each recorded test reaches a subscriber, and a
// subscriber that never reads does not hold up the tests.
func TestSubscribe(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mailmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var healthy atomic.Bool
	healthy.Store(true)
	target := smtpTarget(t, &healthy)
	d := &store.Device{Name: "d", Address: "127.0.0.1"}
	must(t, st.PutDevice(ctx, d))
	spec, _ := json.Marshal(config.Monitor{Port: target.Port, Timing: config.Timing{MaxDuration: config.Duration(time.Second), UpEvery: config.Duration(time.Hour)}})
	m := &store.Monitor{DeviceID: d.ID, Name: "m", Type: "smtp", Enabled: true, Spec: spec}
	must(t, st.PutMonitor(ctx, m))
	e := New(Options{Store: st})
	must(t, e.Load(ctx))

	stuck, endStuck := e.Subscribe(1) // never read
	defer endStuck()
	ch, end := e.Subscribe(10)
	for i := 0; i < 3; i++ {
		done := make(chan struct{})
		go func() { e.TestNow(ctx, m.ID); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("a test was held up by a subscriber that does not read")
		}
	}
	var got []Event
	for len(ch) > 0 {
		got = append(got, <-ch)
	}
	if len(got) != 3 || got[0].MonitorID != m.ID || got[0].State != state.Up || !got[0].Changed || got[1].Changed || got[2].RTT <= 0 {
		t.Errorf("events = %+v", got)
	}
	if len(stuck) != 1 {
		t.Errorf("the stuck subscriber holds %d events, want its buffer's 1", len(stuck))
	}
	end()
	end() // twice is harmless
	if _, ok := <-ch; ok {
		t.Error("the channel is still open after the end")
	}
}

// TestEnabledAgainIsTestedSoon: a monitor enabled again is tested within
// the start window, not after up to a whole interval.
func TestEnabledAgainIsTestedSoon(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mailmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var healthy atomic.Bool
	healthy.Store(true)
	target := smtpTarget(t, &healthy)
	d := &store.Device{Name: "d", Address: "127.0.0.1"}
	must(t, st.PutDevice(ctx, d))
	spec, _ := json.Marshal(config.Monitor{Port: target.Port, Timing: config.Timing{MaxDuration: config.Duration(time.Second), UpEvery: config.Duration(time.Hour)}})
	m := &store.Monitor{DeviceID: d.ID, Name: "m", Type: "smtp", Enabled: false, Spec: spec}
	must(t, st.PutMonitor(ctx, m))
	e := New(Options{Store: st})
	must(t, e.Load(ctx))
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitState(t, st, m.ID, state.Disabled, 5*time.Second)
	m.Enabled = true
	must(t, st.PutMonitor(ctx, m))
	must(t, e.Reload(ctx, m.ID))
	waitState(t, st, m.ID, state.Up, 5*time.Second)
}
