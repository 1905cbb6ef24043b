package engine

import (
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// TestMaintenanceNowSilencesAndEnds: a failing monitor put in maintenance
// by hand sends no alert while it lasts, and alerts once it has ended by
// itself.
func TestMaintenanceNowSilencesAndEnds(t *testing.T) {
	f := newAlerting(t)
	m := f.monitor(t, "SMTP")
	until := time.Now().Add(1500 * time.Millisecond)
	must(t, f.st.PutMaintenanceNow(f.ctx, store.MaintenanceNow{MonitorID: m.ID, Until: until, By: "test", At: time.Now()}))
	f.run(t)

	waitState(t, f.st, m.ID, state.Maintenance, 10*time.Second)
	f.waitTested(t, m.ID, 3)
	if k := f.rcv.kinds(); len(k) != 0 && time.Now().Before(until) {
		t.Fatalf("alerts in maintenance: %v", k)
	}
	f.waitAlerts(t, 1)
	if time.Now().Before(until) {
		t.Fatalf("an alert before the maintenance ended: %v", f.rcv.kinds())
	}
	if s, err := f.st.Status(f.ctx, m.ID); err != nil || !s.Status.State.Failing() {
		t.Errorf("after the maintenance: %+v %v", s, err)
	}
}

// TestMaintenanceNowOfDevice: maintenance of a device covers each of its
// monitors.
func TestMaintenanceNowOfDevice(t *testing.T) {
	f := newAlerting(t)
	a, b := f.monitor(t, "SMTP"), f.monitor(t, "Submission")
	must(t, f.st.PutMaintenanceNow(f.ctx, store.MaintenanceNow{DeviceID: f.dev.ID, Until: time.Now().Add(time.Hour), By: "test", At: time.Now()}))
	f.run(t)
	f.wantSilenced(t, a, b)
}

// wantSilenced waits for each of ms to be in maintenance and tested a few
// times, and wants no alert sent.
func (f *alerting) wantSilenced(t *testing.T, ms ...*store.Monitor) {
	t.Helper()
	for _, m := range ms {
		waitState(t, f.st, m.ID, state.Maintenance, 10*time.Second)
		f.waitTested(t, m.ID, 3)
	}
	for _, m := range ms {
		f.waitDelivered(t, m.ID) // an alert stored in maintenance would be sent by now
	}
	if k := f.rcv.kinds(); len(k) != 0 {
		t.Fatalf("alerts in maintenance: %v", k)
	}
}

// TestMaintenanceNowOfParent: a monitor that depends on one in
// maintenance is not alerted, though it fails.
func TestMaintenanceNowOfParent(t *testing.T) {
	f := newAlerting(t)
	parent := f.monitor(t, "Ping")
	child := f.monitor(t, "SMTP", "Ping")
	must(t, f.st.PutMaintenanceNow(f.ctx, store.MaintenanceNow{MonitorID: parent.ID, Until: time.Now().Add(time.Hour), By: "test", At: time.Now()}))
	f.run(t)
	waitState(t, f.st, parent.ID, state.Maintenance, 10*time.Second)
	f.waitTested(t, child.ID, 5)
	f.waitDelivered(t, child.ID) // an alert stored for it would be sent by now
	if k := f.rcv.kinds(); len(k) != 0 {
		t.Fatalf("alerts of the dependent monitor: %v", k)
	}
	if s, err := f.st.Status(f.ctx, child.ID); err != nil || !s.Status.State.Failing() || s.Status.Suppressed != "dependency" {
		t.Errorf("the dependent monitor: %+v %v", s, err)
	}
}

// TestDeviceWindowSilencesItsMonitors: a scheduled window of a device, in
// a named zone, puts each of its monitors in maintenance, a child by
// depends_on as well: none alerts though all fail.
func TestDeviceWindowSilencesItsMonitors(t *testing.T) {
	f := newAlerting(t)
	// Every day, all day, in Berlin: midnight to midnight.
	f.dev.Maintenance = []byte(`[{"days":["mon","tue","wed","thu","fri","sat","sun"],"start":"00:00","end":"00:00","zone":"Europe/Berlin"}]`)
	must(t, f.st.PutDevice(f.ctx, f.dev))
	parent := f.monitor(t, "Ping")
	child := f.monitor(t, "SMTP", "Ping")
	f.run(t)
	f.wantSilenced(t, parent, child)
}
