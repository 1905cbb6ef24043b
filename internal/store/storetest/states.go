package storetest

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// states: a store tells every stored state at once (store.States, which
// the engine's load reads instead of the statuses a page at a time), the
// same as each status's, and nothing for a monitor never tested.
func states(t *testing.T, s store.Store) {
	ss, ok := s.(store.States)
	if !ok {
		t.Fatalf("%T does not tell its states at once", s)
	}
	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	at := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var tested []int64
	stored := map[int64]state.State{}
	for i, st := range []state.Status{
		{State: state.Up, Since: at, Results: 3, History: 1},
		{State: state.Down, Since: at, Failures: 4, AlertsSent: 2, Outage: at, Escalated: []int64{7, 9}},
		{State: state.Warn, Since: at, Warnings: 2, WarnAlert: true, Suppressed: "maintenance"},
	} {
		m := newMonitor(t, s, d.ID, string(rune('a'+i)), "smtp")
		tested = append(tested, m.ID)
		stored[m.ID] = st.State
		must(t, s.RecordTest(ctx, store.Test{
			Result:   store.Result{MonitorID: m.ID, Time: at, Status: probe.StatusUp, RTT: time.Millisecond},
			Status:   store.Status{MonitorID: m.ID, Status: st, LastTest: at},
			Interval: time.Duration(i+1) * time.Minute,
		}))
	}
	never := newMonitor(t, s, d.ID, "never", "smtp")
	got, err := ss.States(ctx)
	must(t, err)
	if len(got) != len(tested) {
		t.Errorf("states of %d monitors (%v); want %d", len(got), got, len(tested))
	}
	if st, ok := got[never.ID]; ok {
		t.Errorf("a monitor never tested has state %+v", st)
	}
	sts, err := s.Statuses(ctx, tested)
	must(t, err)
	for _, id := range tested {
		if w, g := sts[id].Status, got[id]; g.State != stored[id] || !statesEqual(g, w) {
			t.Errorf("monitor %d: state %+v; its status says %+v", id, g, w)
		}
	}
}

// statesEqual compares two states as stored (their JSON): times
// decoded alike, whatever their location.
func statesEqual(a, b state.Status) bool {
	ja, ea := json.Marshal(a)
	jb, eb := json.Marshal(b)
	return ea == nil && eb == nil && bytes.Equal(ja, jb)
}
