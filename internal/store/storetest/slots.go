package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/schedule/phase"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// slotted is a store that tells the slot each status is kept at
// (sqlstore.Store, both backends).
type slotted interface {
	StatusSlots(ctx context.Context) (map[int64]int64, error)
}

// statusSlots: a status is kept at its monitor's place in test order
// (phase.Slot of the interval its test was stored with), and moves
// when the interval does: a test that keeps the state (the statement
// that stores nearly every test), a state change to a state tested at
// another interval, and a test checked against its version (several
// locations) alike; the status itself stored as ever.
func statusSlots(t *testing.T, s store.Store) {
	sl, ok := s.(slotted)
	if !ok {
		t.Fatalf("%T does not tell its statuses' slots", s)
	}
	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	a, b := newMonitor(t, s, d.ID, "a", "smtp"), newMonitor(t, s, d.ID, "b", "smtp")
	at := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	record := func(m *store.Monitor, st state.State, change bool, iv time.Duration, version int64) {
		t.Helper()
		at = at.Add(time.Minute)
		tt := store.Test{
			Result:   store.Result{MonitorID: m.ID, Time: at, Status: probe.StatusUp, RTT: time.Millisecond},
			Status:   store.Status{MonitorID: m.ID, Status: state.Status{State: st, Results: int(at.Unix() % 1000)}, LastTest: at, Version: version},
			Interval: iv, CheckVersion: version > 0,
		}
		if change {
			tt.Change = &store.StateChange{MonitorID: m.ID, Time: at, From: state.Pending, To: st, Cause: "test"}
		}
		must(t, s.RecordTest(ctx, tt))
		got, err := s.Status(ctx, m.ID)
		if err != nil || !got.LastTest.Equal(at) || got.Status.State != st || got.Status.Results != tt.Status.Status.Results {
			t.Fatalf("after a test every %v: status %+v, %v", iv, got, err)
		}
	}
	want := func(what string, slots map[*store.Monitor]time.Duration) {
		t.Helper()
		got, err := sl.StatusSlots(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for m, iv := range slots {
			if w := phase.Slot(m.ID, iv); got[m.ID] != w {
				t.Errorf("%s: monitor %d at slot %d; want %d (every %v)", what, m.ID, got[m.ID], w, iv)
			}
		}
	}
	record(a, state.Up, true, time.Minute, 0)
	record(b, state.Up, true, 5*time.Minute, 0)
	record(a, state.Up, false, time.Minute, 0)
	want("first tests", map[*store.Monitor]time.Duration{a: time.Minute, b: 5 * time.Minute})
	record(a, state.Up, false, 7*time.Second, 0) // up_every changed
	want("a's interval changed", map[*store.Monitor]time.Duration{a: 7 * time.Second, b: 5 * time.Minute})
	record(a, state.Up, false, 7*time.Second, 0)
	record(b, state.Down, true, 30*time.Second, 0) // down_every
	want("b down", map[*store.Monitor]time.Duration{a: 7 * time.Second, b: 30 * time.Second})
	st, err := s.Status(ctx, b.ID)
	must(t, err)
	record(b, state.Down, false, 45*time.Second, st.Version) // checked
	want("b's checked test", map[*store.Monitor]time.Duration{a: 7 * time.Second, b: 45 * time.Second})
}
