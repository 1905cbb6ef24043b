package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// maintenanceNow: maintenance begun by hand, one a monitor or device (the
// newest), listed until it ends, ended early, gone with its object.
func maintenanceNow(t *testing.T, s store.Store) {
	d := &store.Device{Name: "mail1", Address: "192.0.2.1"}
	must(t, s.PutDevice(ctx, d))
	m := &store.Monitor{DeviceID: d.ID, Name: "SMTP", Type: "smtp", Enabled: true, Spec: []byte(`{}`)}
	must(t, s.PutMonitor(ctx, m))
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	must(t, s.PutMaintenanceNow(ctx, store.MaintenanceNow{MonitorID: m.ID, Until: at.Add(time.Hour), By: "alice", At: at}))
	must(t, s.PutMaintenanceNow(ctx, store.MaintenanceNow{MonitorID: m.ID, Until: at.Add(2 * time.Hour), By: "bob", At: at}))
	must(t, s.PutMaintenanceNow(ctx, store.MaintenanceNow{DeviceID: d.ID, Until: at.Add(3 * time.Hour), By: "carol", At: at}))
	ms, err := s.MaintenancesNow(ctx, at)
	if err != nil || len(ms) != 2 || ms[0].MonitorID != m.ID || ms[0].DeviceID != 0 || ms[0].By != "bob" || !ms[0].Until.Equal(at.Add(2*time.Hour)) ||
		!ms[0].At.Equal(at) || ms[1].DeviceID != d.ID || ms[1].MonitorID != 0 || ms[1].By != "carol" {
		t.Fatalf("maintenances = %+v, %v", ms, err)
	}
	if ms, err := s.MaintenancesNow(ctx, at.Add(2*time.Hour)); err != nil || len(ms) != 1 || ms[0].DeviceID != d.ID {
		t.Errorf("at the monitor's end = %+v, %v", ms, err)
	}
	if err := s.PutMaintenanceNow(ctx, store.MaintenanceNow{MonitorID: 999999, Until: at, By: "x", At: at}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("maintenance of no monitor: %v", err)
	}
	must(t, s.EndMaintenanceNow(ctx, 0, d.ID))
	if err := s.EndMaintenanceNow(ctx, 0, d.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ending it again: %v", err)
	}
	must(t, s.DeleteMonitor(ctx, m.ID))
	if ms, err := s.MaintenancesNow(ctx, at); err != nil || len(ms) != 0 {
		t.Errorf("outlived its monitor: %+v, %v", ms, err)
	}
}
