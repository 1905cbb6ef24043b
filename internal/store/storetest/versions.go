package storetest

import (
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// monitorVersions: a store that offers MonitorVersions gives every
// monitor's id and the Updated its full listing gives, a change and a
// deletion included.
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
	fp := func() store.Fingerprint {
		t.Helper()
		f, err := mv.MonitorsFingerprint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	f0 := fp()
	if f0 != fp() {
		t.Error("the fingerprint changed with nothing changed")
	}
	time.Sleep(2 * time.Millisecond) // a later updated_ms, not a synchronisation
	m, err := s.Monitor(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	m.Enabled = !m.Enabled
	must(t, s.PutMonitor(ctx, m))
	check("changed")
	f1 := fp()
	if f1 == f0 {
		t.Error("the fingerprint did not change with a monitor")
	}
	must(t, s.DeleteMonitor(ctx, b.ID))
	check("deleted")
	if fp() == f1 {
		t.Error("the fingerprint did not change with a deletion")
	}
	if got, _ := mv.MonitorVersions(ctx); func() bool { _, ok := got[b.ID]; return ok }() {
		t.Errorf("a deleted monitor still has a version")
	}
}
