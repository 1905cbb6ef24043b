package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// firing: FiringNotifications finds, per failing monitor and linked action
// of a kind, the newest notification when it is an alert or a re-post done
// before a time; AddNotifications adds a re-post once however often it is
// added (two nodes); a pending re-post, a recovery, a monitor back up or an
// unlinked action ends it.
func firing(t *testing.T, s store.Store) {
	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	m := newMonitor(t, s, d.ID, "m", "smtp")
	am := &store.Alert{Name: "am", Kind: "alertmanager", Spec: json.RawMessage(`{}`)}
	hook := &store.Alert{Name: "hook", Kind: "webhook", Spec: json.RawMessage(`{}`)}
	must(t, s.PutAlert(ctx, am))
	must(t, s.PutAlert(ctx, hook))
	must(t, s.SetMonitorAlerts(ctx, m.ID, []int64{am.ID, hook.ID}))
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	test := func(st state.State, ns ...store.Notification) {
		t.Helper()
		must(t, s.RecordTest(ctx, store.Test{Result: store.Result{MonitorID: m.ID, Time: time.Now(), Status: probe.StatusDown},
			Status: store.Status{MonitorID: m.ID, Status: state.Status{State: st}, LastTest: time.Now()}, Notifications: ns}))
	}
	note := func(id string, alert int64, kind string) store.Notification {
		return store.Notification{EventID: id, MonitorID: m.ID, AlertID: alert, Kind: kind, Payload: json.RawMessage(`{"Kind":"alert"}`), Created: t0}
	}
	test(state.Down, note("a1", am.ID, "alert"), note("h1", hook.ID, "alert"))
	firingNow := func(before time.Time) []store.Notification {
		t.Helper()
		ns, err := s.FiringNotifications(ctx, "alertmanager", before)
		must(t, err)
		return ns
	}
	if got := firingNow(time.Now()); len(got) != 0 {
		t.Errorf("a pending alert is firing: %+v", got)
	}
	sent := func(eventID string, at time.Time) {
		t.Helper()
		ns, err := s.Notifications(ctx, m.ID, 100)
		must(t, err)
		for _, n := range ns {
			if n.EventID == eventID {
				must(t, s.MarkNotification(ctx, n.ID, "", store.NotifySent, 1, "", at))
				return
			}
		}
		t.Fatalf("no notification %s", eventID)
	}
	sent("a1", t0.Add(time.Minute))
	sent("h1", t0.Add(time.Minute))
	got := firingNow(t0.Add(2 * time.Minute))
	if len(got) != 1 || got[0].EventID != "a1" {
		t.Fatalf("firing: %+v, want a1 (of the alertmanager action only)", got)
	}
	if got := firingNow(t0.Add(time.Minute)); len(got) != 0 {
		t.Errorf("firing before it was sent: %+v", got)
	}
	for i, want := range []int{1, 0} { // a second node adds the same re-post
		n, err := s.AddNotifications(ctx, []store.Notification{note("repost-1", am.ID, "repost")})
		if err != nil || n != want {
			t.Errorf("AddNotifications #%d = %d, %v; want %d", i, n, err, want)
		}
	}
	if got := firingNow(time.Now()); len(got) != 0 {
		t.Errorf("firing while a re-post is pending: %+v", got)
	}
	sent("repost-1", t0.Add(3*time.Minute))
	if got := firingNow(time.Now()); len(got) != 1 || got[0].EventID != "repost-1" {
		t.Errorf("firing after the re-post: %+v", got)
	}
	must(t, s.SetMonitorAlerts(ctx, m.ID, []int64{hook.ID}))
	if got := firingNow(time.Now()); len(got) != 0 {
		t.Errorf("firing for an action no longer linked: %+v", got)
	}
	must(t, s.SetMonitorAlerts(ctx, m.ID, []int64{am.ID, hook.ID}))
	test(state.Up)
	if got := firingNow(time.Now()); len(got) != 0 {
		t.Errorf("firing for a monitor back up: %+v", got)
	}
	test(state.Down, note("r1", am.ID, "recovery"))
	sent("r1", t0.Add(4*time.Minute))
	if got := firingNow(time.Now()); len(got) != 0 {
		t.Errorf("firing after the recovery: %+v", got)
	}
}
