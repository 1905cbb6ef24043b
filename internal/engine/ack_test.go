package engine

import (
	"slices"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// TestAckStopsRepeatsKeepsRecovery: a Down monitor alerts every failure;
// once its outage is acknowledged no more alerts go out, and its recovery
// still does.
func TestAckStopsRepeatsKeepsRecovery(t *testing.T) {
	f := newAlerting(t)
	st, ctx := f.st, f.ctx
	m := f.monitor(t, "SMTP")
	f.run(t)

	f.waitAlerts(t, 2) // Down, and a repeat
	s, err := st.Status(ctx, m.ID)
	if err != nil || !s.Status.State.Failing() {
		t.Fatalf("status %+v %v", s, err)
	}
	must(t, st.PutAck(ctx, store.Ack{MonitorID: m.ID, Since: s.Status.Since.UTC().Truncate(time.Millisecond), By: "test", At: time.Now()}))
	// Notifications stored before the ack may still go out: count from
	// several tests after it.
	f.waitTested(t, m.ID, 3)
	time.Sleep(100 * time.Millisecond) // the outbox's rounds
	before := len(f.rcv.kinds())
	f.waitTested(t, m.ID, 7)
	if got := f.rcv.kinds(); len(got) != before {
		t.Fatalf("alerts after the ack: %v (had %d)", got, before)
	}
	f.healthy.Store(true)
	waitState(t, st, m.ID, state.Up, 10*time.Second)
	f.waitAlerts(t, before+1)
	if k := f.rcv.kinds(); !slices.Contains(k, "recovery:up") {
		t.Errorf("no recovery after the ack: %v", k)
	}
}
