package storetest

import (
	"testing"

	"github.com/mailmon/mailmon/internal/store"
)

// networkTargets: whether a target was set over the network is stored and
// read back, for devices, monitors and alerts, and changes both ways
// (apply makes a target the operator's again).
func networkTargets(t *testing.T, s store.Store) {
	d := &store.Device{Name: "net", Address: "192.0.2.1", NetworkTarget: true}
	must(t, s.PutDevice(ctx, d))
	m := &store.Monitor{DeviceID: d.ID, Name: "smtp", Type: "smtp", Enabled: true, Spec: []byte(`{}`), NetworkTarget: true}
	must(t, s.PutMonitor(ctx, m))
	a := &store.Alert{Name: "relay", Kind: "email", Spec: []byte(`{}`), NetworkTarget: true}
	must(t, s.PutAlert(ctx, a))
	check := func(want bool) {
		t.Helper()
		gd, err := s.Device(ctx, d.ID)
		must(t, err)
		gm, err := s.Monitor(ctx, m.ID)
		must(t, err)
		ga, err := s.Alert(ctx, a.ID)
		must(t, err)
		ms, _, err := s.Monitors(ctx, store.MonitorFilter{DeviceID: d.ID})
		must(t, err)
		ds, _, err := s.Devices(ctx, store.Page{})
		must(t, err)
		as, _, err := s.Alerts(ctx, store.Page{})
		must(t, err)
		for what, got := range map[string]bool{"Device": gd.NetworkTarget, "Monitor": gm.NetworkTarget, "Alert": ga.NetworkTarget,
			"Monitors": len(ms) == 1 && ms[0].NetworkTarget, "Devices": len(ds) == 1 && ds[0].NetworkTarget, "Alerts": len(as) == 1 && as[0].NetworkTarget} {
			if got != want {
				t.Errorf("%s: NetworkTarget %v, want %v", what, got, want)
			}
		}
	}
	check(true)
	d.NetworkTarget, m.NetworkTarget, a.NetworkTarget = false, false, false
	must(t, s.PutDevice(ctx, d))
	must(t, s.PutMonitor(ctx, m))
	must(t, s.PutAlert(ctx, a))
	check(false)
}
