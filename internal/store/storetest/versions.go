package storetest

import (
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// monitorVersions: a store that offers MonitorVersions gives every
// monitor's id and the Updated its full listing gives, a change and a
// deletion included; and its counts of writes move with every write of a
// monitor (its alerts, its device's deletion included), a device or a
// credential, and only of that kind, but not with a test that changes a
// monitor's board rank.
func monitorVersions(t *testing.T, s store.Store) {
	mv, ok := s.(store.MonitorVersions)
	if !ok {
		t.Skip("this store lists monitors in full only")
	}
	d := &store.Device{Name: "versions", Address: "v"}
	must(t, s.PutDevice(ctx, d))
	a := newMonitor(t, s, d.ID, "A", "smtp")
	b := newMonitor(t, s, d.ID, "B", "imap")
	check := func(when string) {
		t.Helper()
		got, err := mv.MonitorVersions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		list, _, err := s.Monitors(ctx, store.MonitorFilter{Page: store.Page{Limit: 100000}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(list) {
			t.Errorf("%s: %d versions for %d monitors", when, len(got), len(list))
		}
		for _, m := range list {
			if u, ok := got[m.ID]; !ok || !u.Equal(m.Updated) {
				t.Errorf("%s: monitor %d: version %v (present %v), listed as updated %v", when, m.ID, u, ok, m.Updated)
			}
		}
	}
	check("created")
	counts := func() store.Changes {
		t.Helper()
		c, err := mv.ConfigChanges(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// moved: what fn writes moves the counts of what it names, and no
	// other.
	moved := func(what string, fn func(), monitors, devices, credentials bool) {
		t.Helper()
		c0 := counts()
		fn()
		c1 := counts()
		for _, k := range []struct {
			name       string
			was, is    int64
			wantChange bool
		}{{"monitors", c0.Monitors, c1.Monitors, monitors}, {"devices", c0.Devices, c1.Devices, devices}, {"credentials", c0.Credentials, c1.Credentials, credentials}} {
			if changed := k.is != k.was; changed != k.wantChange {
				t.Errorf("%s: the count of %s went from %d to %d, want a change %v", what, k.name, k.was, k.is, k.wantChange)
			}
		}
	}
	moved("nothing", func() {}, false, false, false)
	moved("a test that changes the monitor's board rank", func() { recordDown(t, s, a.ID, time.Now()) }, false, false, false)
	moved("a monitor changed", func() {
		m, err := s.Monitor(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		m.Enabled = !m.Enabled // its rank too
		must(t, s.PutMonitor(ctx, m))
	}, true, false, false)
	check("changed")
	moved("a monitor rewritten as it was", func() {
		m, err := s.Monitor(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		must(t, s.PutMonitor(ctx, m))
	}, true, false, false)
	al := &store.Alert{Name: "versions", Kind: "webhook", Spec: []byte(`{}`)}
	must(t, s.PutAlert(ctx, al))
	moved("a monitor's alerts", func() { must(t, s.SetMonitorAlerts(ctx, a.ID, []int64{al.ID})) }, true, false, false)
	moved("two monitors in one batch", func() {
		must(t, store.Batch(ctx, s, func(c store.Config) error {
			for _, name := range []string{"D", "E"} {
				if err := c.PutMonitor(ctx, &store.Monitor{DeviceID: d.ID, Name: name, Type: "smtp", Enabled: true, Spec: []byte(`{}`)}); err != nil {
					return err
				}
			}
			return nil
		}))
	}, true, false, false)
	moved("a monitor deleted", func() { must(t, s.DeleteMonitor(ctx, b.ID)) }, true, false, false)
	check("deleted")
	d2 := &store.Device{Name: "versions-2", Address: "v2"}
	moved("a device created", func() { must(t, s.PutDevice(ctx, d2)) }, false, true, false)
	c := newMonitor(t, s, d2.ID, "C", "smtp")
	moved("a device changed", func() {
		d2.Maintenance = []byte(`[{"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"}]`)
		must(t, s.PutDevice(ctx, d2))
	}, false, true, false)
	moved("a device deleted with its monitor", func() { must(t, s.DeleteDevice(ctx, d2.ID)) }, true, true, false)
	if _, err := s.Monitor(ctx, c.ID); err == nil {
		t.Error("a deleted device's monitor is still stored")
	}
	cr := &store.Credential{Name: "versions", Spec: []byte(`{"user":"root"}`)}
	moved("a credential created", func() { must(t, s.PutCredential(ctx, cr)) }, false, false, true)
	moved("a credential changed", func() {
		cr.Secrets = map[string]string{"password": "v1:rotated"}
		must(t, s.PutCredential(ctx, cr))
	}, false, false, true)
	moved("a credential deleted", func() { must(t, s.DeleteCredential(ctx, cr.ID)) }, false, false, true)
	if got, _ := mv.MonitorVersions(ctx); func() bool { _, ok := got[b.ID]; return ok }() {
		t.Errorf("a deleted monitor still has a version")
	}
}
