package engine

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/alert"
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
	// several tests after it, once the outbox has sent them.
	f.waitTested(t, m.ID, 3)
	f.waitDelivered(t, m.ID)
	before, storedBefore := len(f.rcv.kinds()), f.stored(t, m.ID)
	f.waitTested(t, m.ID, 7)
	f.waitDelivered(t, m.ID) // an alert stored after the ack would be sent by now
	if got, n := f.rcv.kinds(), f.stored(t, m.ID); len(got) != before || n != storedBefore {
		t.Fatalf("alerts after the ack: %v (had %d), %d notifications stored (had %d)", got, before, n, storedBefore)
	}
	f.healthy.Store(true)
	waitState(t, st, m.ID, state.Up, 10*time.Second)
	f.waitAlerts(t, before+1)
	if k := f.rcv.kinds(); !slices.Contains(k, "recovery:up") {
		t.Errorf("no recovery after the ack: %v", k)
	}
}

// TestAlertsCarryAckLinks: with acknowledgement links, each Down alert
// carries one that acknowledges that outage (its start, the action); the
// recovery carries none.
func TestAlertsCarryAckLinks(t *testing.T) {
	f := newAlerting(t)
	links, err := alert.NewAckLinks("https://mailmon.example.com", []byte("engine-installation-secret"), 0)
	must(t, err)
	f.links = links
	m := f.monitor(t, "SMTP")
	f.run(t)
	f.waitAlerts(t, 1)
	s, err := f.st.Status(f.ctx, m.ID)
	if err != nil || !s.Status.State.Failing() {
		t.Fatalf("status %+v %v", s, err)
	}
	f.healthy.Store(true)
	waitState(t, f.st, m.ID, state.Up, 10*time.Second)
	ns, err := f.st.Notifications(f.ctx, m.ID, 100)
	must(t, err)
	var alerts, recoveries int
	for _, n := range ns {
		var ev alert.Event
		must(t, json.Unmarshal(n.Payload, &ev))
		switch ev.Kind {
		case "alert":
			alerts++
			tok, ok := strings.CutPrefix(ev.AckURL, "https://mailmon.example.com/ack/")
			g, err := links.Check(tok, time.Now())
			if !ok || err != nil || g.Monitor != m.ID || g.Alert != f.alert.ID || !g.Since.Equal(s.Status.Since.UTC().Truncate(time.Millisecond)) {
				t.Errorf("alert's link %q: %+v %v (outage since %v)", ev.AckURL, g, err, s.Status.Since)
			}
		case "recovery":
			recoveries++
			if ev.AckURL != "" {
				t.Errorf("the recovery has a link: %s", ev.AckURL)
			}
		}
	}
	if alerts == 0 || recoveries == 0 {
		t.Errorf("%d alerts, %d recoveries in %d notifications", alerts, recoveries, len(ns))
	}
}
