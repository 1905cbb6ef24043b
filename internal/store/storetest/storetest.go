// Package storetest is the contract every store backend must pass: the same
// suite runs against SQLite and PostgreSQL.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// Run runs the contract against stores made by open; each subtest gets an
// empty store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := map[string]func(*testing.T, store.Store){
		"devices":                      devices,
		"monitors":                     monitors,
		"monitor versions":             monitorVersions,
		"alerts":                       alerts,
		"monitors' alerts":             monitorsAlerts,
		"credentials":                  credentials,
		"record test":                  recordTest,
		"notifications":                notifications,
		"later sent":                   laterSent,
		"ping":                         ping,
		"prune":                        prune,
		"tokens":                       tokens,
		"rollups":                      rollups,
		"rollups of many":              rollupsMany,
		"rollups of a deleted monitor": rollupsDeletedMonitor,
		"last roll-up":                 rollupsLastRollup,
		"state changes between":        stateChangesBetween,
		"recoveries":                   recoveries,
		"locations":                    locations,
		"status version":               statusVersion,
		"concurrent tests":             concurrentTests,
		"cluster":                      cluster,
		"handover":                     handover,
		"claims of a dead node":        deadClaims,
		"claims are their node's":      ownClaims,
		"claims per action":            claimsPerAction,
		"marks are their claimer's":    ownMarks,
		"firing":                       firing,
		"users":                        users,
		"sessions":                     sessions,
		"monitor search":               monitorSearch,
		"sealed values":                sealed,
		"network targets":              networkTargets,
		"device windows":               deviceWindows,
		"batch":                        batch,
		"batch panic":                  batchPanic,
		"board":                        board,
		"recent results kept":          recentKept,
		"board counts":                 boardCounts,
		"board rank":                   boardRank,
		"teams":                        teams,
		"audit":                        audit,
		"maintenance now":              maintenanceNow,
		"status pages":                 statusPages,
		"domain filter":                domainFilter,
		"walk":                         walk,
		"status slots":                 statusSlots,
		"states":                       states,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) { fn(t, open(t)) })
	}
}

var ctx = context.Background()

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func devices(t *testing.T, s store.Store) {
	d := &store.Device{Name: "mail1", Address: "mail1.example.test"}
	must(t, s.PutDevice(ctx, d))
	if d.ID == 0 || d.Created.IsZero() {
		t.Fatalf("created device %+v", d)
	}
	if err := s.PutDevice(ctx, &store.Device{Name: "mail1", Address: "x"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate name: %v", err)
	}
	d.Address = "10.0.0.1"
	must(t, s.PutDevice(ctx, d))
	got, err := s.DeviceByName(ctx, "mail1")
	if err != nil || got.ID != d.ID || got.Address != "10.0.0.1" {
		t.Errorf("DeviceByName = %+v, %v", got, err)
	}
	for i := 0; i < 5; i++ {
		must(t, s.PutDevice(ctx, &store.Device{Name: "dev" + string(rune('a'+i)), Address: "h"}))
	}
	list, total, err := s.Devices(ctx, store.Page{Limit: 2, Offset: 1})
	if err != nil || total != 6 || len(list) != 2 || list[0].Name != "devb" {
		t.Errorf("Devices page = %v, %d, %v", list, total, err)
	}
	must(t, s.DeleteDevice(ctx, d.ID))
	if _, err := s.Device(ctx, d.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted device: %v", err)
	}
	if err := s.DeleteDevice(ctx, d.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
	if err := s.PutDevice(ctx, &store.Device{ID: 9999, Name: "ghost"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("updating a missing device: %v", err)
	}
}

func newMonitor(t *testing.T, s store.Store, dev int64, name, typ string) *store.Monitor {
	t.Helper()
	m := &store.Monitor{DeviceID: dev, Name: name, Type: typ, Enabled: true,
		Spec: json.RawMessage(`{"port":25,"tls":"starttls"}`), Secrets: map[string]string{"password": "v1:sealed"}}
	must(t, s.PutMonitor(ctx, m))
	return m
}

func monitors(t *testing.T, s store.Store) {
	d1, d2 := &store.Device{Name: "a", Address: "a"}, &store.Device{Name: "b", Address: "b"}
	must(t, s.PutDevice(ctx, d1))
	must(t, s.PutDevice(ctx, d2))
	m := newMonitor(t, s, d1.ID, "SMTP", "smtp")
	newMonitor(t, s, d1.ID, "IMAP", "imap")
	newMonitor(t, s, d2.ID, "SMTP", "smtp") // the same name on another device is fine
	if err := s.PutMonitor(ctx, &store.Monitor{DeviceID: d1.ID, Name: "SMTP", Type: "smtp"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate name on a device: %v", err)
	}
	if err := s.PutMonitor(ctx, &store.Monitor{DeviceID: 999999, Name: "orphan", Type: "smtp"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a monitor of a missing device: %v", err)
	}
	got, err := s.MonitorByName(ctx, d1.ID, "SMTP")
	if err != nil || got.ID != m.ID || got.Secrets["password"] != "v1:sealed" || string(got.Spec) != `{"port":25,"tls":"starttls"}` || !got.Enabled {
		t.Fatalf("MonitorByName = %+v, %v", got, err)
	}
	got.Enabled = false
	must(t, s.PutMonitor(ctx, got))
	if again, _ := s.Monitor(ctx, m.ID); again.Enabled {
		t.Error("update lost")
	}
	if list, total, _ := s.Monitors(ctx, store.MonitorFilter{DeviceID: d1.ID}); total != 2 || len(list) != 2 {
		t.Errorf("by device: %d %v", total, list)
	}
	if _, total, _ := s.Monitors(ctx, store.MonitorFilter{Type: "smtp"}); total != 2 {
		t.Errorf("by type: %d", total)
	}
	// The state filter is by the state shown: a disabled monitor is
	// Disabled, whatever its last test said.
	if _, total, _ := s.Monitors(ctx, store.MonitorFilter{State: state.Pending}); total != 2 {
		t.Errorf("never tested monitors are pending: %d", total)
	}
	recordDown(t, s, m.ID, time.Now())
	if list, total, _ := s.Monitors(ctx, store.MonitorFilter{State: state.Disabled}); total != 1 || list[0].ID != m.ID {
		t.Errorf("disabled: %d %v", total, list)
	}
	got.Enabled = true
	must(t, s.PutMonitor(ctx, got))
	if list, total, _ := s.Monitors(ctx, store.MonitorFilter{State: state.Down}); total != 1 || list[0].ID != m.ID {
		t.Errorf("by state: %d %v", total, list)
	}
	must(t, s.DeleteDevice(ctx, d1.ID))
	if _, err := s.Monitor(ctx, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a device's monitors go with it: %v", err)
	}
}

func alerts(t *testing.T, s store.Store) {
	a := &store.Alert{Name: "ops", Kind: "webhook", Spec: json.RawMessage(`{"url":"https://hooks.example/x"}`)}
	must(t, s.PutAlert(ctx, a))
	b := &store.Alert{Name: "pager", Kind: "email", Secrets: map[string]string{"password": "v1:x"}}
	must(t, s.PutAlert(ctx, b))
	if err := s.PutAlert(ctx, &store.Alert{Name: "ops", Kind: "webhook"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate alert name: %v", err)
	}
	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	m := newMonitor(t, s, d.ID, "m", "smtp")
	before, _ := s.Monitor(ctx, m.ID)
	must(t, s.SetMonitorAlerts(ctx, m.ID, []int64{b.ID, a.ID, a.ID}))
	if after, _ := s.Monitor(ctx, m.ID); !after.Updated.After(before.Updated) {
		t.Errorf("assigning alerts does not show in the monitor's update time: %v → %v", before.Updated, after.Updated)
	}
	if ids, _ := s.MonitorAlerts(ctx, m.ID); len(ids) != 2 || ids[0] != a.ID || ids[1] != b.ID {
		t.Errorf("assigned %v", ids)
	}
	if err := s.SetMonitorAlerts(ctx, m.ID, []int64{12345}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("assigning a missing alert: %v", err)
	}
	if ids, _ := s.MonitorAlerts(ctx, m.ID); len(ids) != 2 {
		t.Errorf("a failed assignment changed the assignment: %v", ids)
	}
	got, err := s.AlertByName(ctx, "pager")
	if err != nil || got.Secrets["password"] != "v1:x" || got.Kind != "email" {
		t.Errorf("AlertByName = %+v %v", got, err)
	}
	must(t, s.DeleteAlert(ctx, a.ID))
	if ids, _ := s.MonitorAlerts(ctx, m.ID); len(ids) != 1 {
		t.Errorf("a deleted alert stays assigned: %v", ids)
	}
}

func recordDown(t *testing.T, s store.Store, id int64, at time.Time) {
	t.Helper()
	res := &probe.Result{Type: "smtp", Status: probe.StatusDown, Error: &probe.Error{Code: probe.Timeout, Message: probe.Timeout.Message()},
		Transcript: []string{"S: 220 x"}}
	must(t, s.RecordTest(ctx, store.Test{
		Result: store.Result{MonitorID: id, Time: at, Status: probe.StatusDown, RTT: 10 * time.Second, Code: probe.Timeout, Detail: res},
		Status: store.Status{MonitorID: id, Status: state.Status{State: state.Down, Failures: 3, AlertsSent: 1, Since: at.UTC().Truncate(time.Millisecond)},
			LastResult: res, LastTest: at},
		Change: &store.StateChange{MonitorID: id, Time: at, From: state.Warn, To: state.Down, Cause: "timeout (failure 3)"},
		Notifications: []store.Notification{{EventID: "e-" + at.String(), MonitorID: id, AlertID: 1, Kind: "alert",
			Payload: json.RawMessage(`{"event":"alert"}`), Created: at}},
	}))
}

func recordTest(t *testing.T, s store.Store) {
	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	m := newMonitor(t, s, d.ID, "m", "imap-roundtrip")
	if _, err := s.Status(ctx, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("status of an untested monitor: %v", err)
	}
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	up := &probe.Result{Type: "imap-roundtrip", Status: probe.StatusUp, RTT: 40 * time.Millisecond}
	must(t, s.RecordTest(ctx, store.Test{
		Result: store.Result{MonitorID: m.ID, Time: t0, Status: probe.StatusUp, RTT: 40 * time.Millisecond, Delivery: 12 * time.Millisecond, Detail: up},
		Status: store.Status{MonitorID: m.ID, Status: state.Status{State: state.Up, History: 0, Results: 1}, LastResult: up, LastTest: t0},
		Change: &store.StateChange{MonitorID: m.ID, Time: t0, From: state.Pending, To: state.Up, Cause: "test passed"},
	}))
	recordDown(t, s, m.ID, t0.Add(time.Minute))
	st, err := s.Status(ctx, m.ID)
	if err != nil || st.Status.State != state.Down || st.Status.Failures != 3 || st.Status.AlertsSent != 1 ||
		st.LastResult == nil || st.LastResult.Error.Code != probe.Timeout || !st.LastTest.Equal(t0.Add(time.Minute)) {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	rs, err := s.Results(ctx, m.ID, t0.Add(-time.Second), t0.Add(time.Hour), 10)
	if err != nil || len(rs) != 2 {
		t.Fatalf("Results = %v, %v", rs, err)
	}
	if rs[0].Status != probe.StatusDown || rs[0].Code != probe.Timeout || rs[0].Detail == nil || len(rs[0].Detail.Transcript) != 1 {
		t.Errorf("the failure's detail: %+v", rs[0])
	}
	if rs[1].Status != probe.StatusUp || rs[1].Detail != nil || rs[1].Delivery != 12*time.Millisecond || rs[1].RTT != 40*time.Millisecond {
		t.Errorf("a passed test keeps no detail: %+v", rs[1])
	}
	if rs, _ := s.Results(ctx, m.ID, t0.Add(30*time.Second), t0.Add(time.Hour), 10); len(rs) != 1 {
		t.Errorf("time range: %d results", len(rs))
	}
	ch, err := s.StateChanges(ctx, m.ID, 10)
	if err != nil || len(ch) != 2 || ch[0].To != state.Down || ch[1].From != state.Pending || ch[0].Cause == "" {
		t.Errorf("StateChanges = %+v, %v", ch, err)
	}

	// The test of a monitor deleted meanwhile is not stored.
	must(t, s.DeleteMonitor(ctx, m.ID))
	at := t0.Add(2 * time.Minute)
	err = s.RecordTest(ctx, store.Test{Result: store.Result{MonitorID: m.ID, Time: at, Status: probe.StatusUp},
		Status: store.Status{MonitorID: m.ID, Status: state.Status{State: state.Up}, LastTest: at}})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a test of a deleted monitor: %v", err)
	}
	if rs, _ := s.Results(ctx, m.ID, t0, t0.Add(time.Hour), 10); len(rs) != 0 {
		t.Errorf("a deleted monitor's test left %d results", len(rs))
	}
}

func notifications(t *testing.T, s store.Store) {
	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	m := newMonitor(t, s, d.ID, "m", "smtp")
	at := time.Now().Truncate(time.Millisecond)
	recordDown(t, s, m.ID, at)
	recordDown(t, s, m.ID, at) // replayed after a crash: the same event id is stored once
	p, err := s.PendingNotifications(ctx, 10)
	if err != nil || len(p) != 1 || p[0].Kind != "alert" || p[0].MonitorID != m.ID || string(p[0].Payload) != `{"event":"alert"}` {
		t.Fatalf("pending = %+v, %v", p, err)
	}
	must(t, s.MarkNotification(ctx, p[0].ID, "", store.NotifyPending, 1, "connection refused", at))
	if p2, _ := s.PendingNotifications(ctx, 10); len(p2) != 1 || p2[0].Attempts != 1 || p2[0].LastError != "connection refused" {
		t.Errorf("after a failed attempt: %+v", p2)
	}
	must(t, s.MarkNotification(ctx, p[0].ID, "", store.NotifySent, 2, "", at))
	if p2, _ := s.PendingNotifications(ctx, 10); len(p2) != 0 {
		t.Errorf("sent notification still pending: %+v", p2)
	}
	log, _ := s.Notifications(ctx, m.ID, 10)
	if len(log) != 1 || log[0].Status != store.NotifySent || log[0].Done.IsZero() {
		t.Errorf("alert log = %+v", log)
	}
	// The limit holds for each action: one action's pile hides no other's.
	for i := range 3 {
		recordDown(t, s, m.ID, at.Add(time.Duration(i+1)*time.Second))
	}
	must(t, s.RecordTest(ctx, store.Test{
		Result: store.Result{MonitorID: m.ID, Time: at.Add(time.Minute), Status: probe.StatusDown},
		Status: store.Status{MonitorID: m.ID, Status: state.Status{State: state.Down}, LastTest: at.Add(time.Minute)},
		Notifications: []store.Notification{{EventID: "other-action", MonitorID: m.ID, AlertID: 2, Kind: "alert",
			Payload: json.RawMessage(`{}`), Created: at}},
	}))
	p, err = s.PendingNotifications(ctx, 2)
	if err != nil || len(p) != 3 || p[0].AlertID != 1 || p[1].AlertID != 1 || p[2].AlertID != 2 || p[0].ID > p[1].ID {
		t.Errorf("two of each action = %+v, %v", p, err)
	}

	// An acknowledgement: one a monitor, the newest; gone with the monitor.
	if _, err := s.AckOf(ctx, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("no ack yet: %v", err)
	}
	for _, by := range []string{"alice", "bob"} {
		must(t, s.PutAck(ctx, store.Ack{MonitorID: m.ID, Since: at, By: by, At: at.Add(time.Minute), Comment: "on it"}))
	}
	if a, err := s.AckOf(ctx, m.ID); err != nil || a.By != "bob" || !a.Since.Equal(at) || !a.At.Equal(at.Add(time.Minute)) || a.Comment != "on it" ||
		!a.Covers(state.Status{State: state.Down, Since: at}) || a.Covers(state.Status{State: state.Down, Since: at.Add(time.Second)}) {
		t.Errorf("ack = %+v, %v", a, err)
	}
	if err := s.PutAck(ctx, store.Ack{MonitorID: 999999, Since: at, By: "x", At: at}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an ack of no monitor: %v", err)
	}
	must(t, s.DeleteMonitor(ctx, m.ID))
	if _, err := s.AckOf(ctx, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an ack outlived its monitor: %v", err)
	}
}

// laterSent: a notification is superseded only by a later one of the same
// monitor to the same action that was sent.
func laterSent(t *testing.T, s store.Store) {
	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	m := newMonitor(t, s, d.ID, "m", "smtp")
	other := newMonitor(t, s, d.ID, "other", "smtp")
	at := time.Now().Truncate(time.Millisecond)
	recordDown(t, s, m.ID, at)
	recordDown(t, s, other.ID, at.Add(time.Second))
	recordDown(t, s, m.ID, at.Add(2*time.Second))
	p, err := s.PendingNotifications(ctx, 10)
	if err != nil || len(p) != 3 {
		t.Fatalf("pending = %+v, %v", p, err)
	}
	first, otherN, last := p[0], p[1], p[2]
	check := func(what string, n store.Notification, alert int64, want bool) {
		t.Helper()
		if got, err := s.LaterSent(ctx, n.MonitorID, alert, n.ID); err != nil || got != want {
			t.Errorf("%s: LaterSent = %v, %v; want %v", what, got, err, want)
		}
	}
	check("nothing sent yet", first, 1, false)
	must(t, s.MarkNotification(ctx, otherN.ID, "", store.NotifySent, 1, "", at))
	check("another monitor's later one sent", first, 1, false)
	must(t, s.MarkNotification(ctx, last.ID, "", store.NotifyFailed, 1, "refused", at))
	check("the later one failed", first, 1, false)
	must(t, s.MarkNotification(ctx, last.ID, "", store.NotifySent, 2, "", at))
	check("the later one sent", first, 1, true)
	check("to another action", first, 2, false)
	check("the later one itself", last, 1, false)
	must(t, s.MarkNotification(ctx, first.ID, "", store.NotifySuperseded, 0, "a later one was sent", at))
	if log, _ := s.Notifications(ctx, m.ID, 10); len(log) != 2 || log[1].Status != store.NotifySuperseded || log[1].Done.IsZero() {
		t.Errorf("alert log = %+v", log)
	}
}

func ping(t *testing.T, s store.Store) {
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func prune(t *testing.T, s store.Store) {
	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	m := newMonitor(t, s, d.ID, "m", "smtp")
	now := time.Now().Truncate(time.Millisecond)
	for i := 0; i < 10; i++ {
		recordDown(t, s, m.ID, now.Add(-time.Duration(i)*24*time.Hour))
	}
	n, err := s.Prune(ctx, now.Add(-7*24*time.Hour+time.Minute))
	if err != nil || n != 3 {
		t.Errorf("pruned %d, %v", n, err)
	}
	if rs, _ := s.Results(ctx, m.ID, now.Add(-30*24*time.Hour), now.Add(time.Hour), 100); len(rs) != 7 {
		t.Errorf("%d results left", len(rs))
	}
}

func tokens(t *testing.T, s store.Store) {
	tk := &store.Token{Name: "ci", Hash: "abc123"}
	must(t, s.PutToken(ctx, tk))
	if err := s.PutToken(ctx, &store.Token{Name: "ci", Hash: "other"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate token name: %v", err)
	}
	got, err := s.TokenByHash(ctx, "abc123")
	if err != nil || got.ID != tk.ID || !got.Used.IsZero() {
		t.Fatalf("TokenByHash = %+v %v", got, err)
	}
	now := time.Now().Truncate(time.Millisecond)
	must(t, s.TouchToken(ctx, tk.ID, now))
	if got, _ := s.TokenByHash(ctx, "abc123"); !got.Used.Equal(now) {
		t.Errorf("used = %v", got.Used)
	}
	if _, err := s.TokenByHash(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown hash: %v", err)
	}
	must(t, s.DeleteToken(ctx, tk.ID))
	if l, _ := s.Tokens(ctx); len(l) != 0 {
		t.Errorf("tokens after delete: %v", l)
	}
}

func rollups(t *testing.T, s store.Store) {
	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	m := newMonitor(t, s, d.ID, "m", "imap-roundtrip")
	h0 := store.Truncate(store.Hour, time.Now().Add(-48*time.Hour))
	rec := func(at time.Time, st probe.Status, rtt, delivery time.Duration) {
		must(t, s.RecordTest(ctx, store.Test{
			Result: store.Result{MonitorID: m.ID, Time: at, Status: st, RTT: rtt, Delivery: delivery},
			Status: store.Status{MonitorID: m.ID, Status: state.Status{State: state.Up}, LastTest: at},
		}))
	}
	// Hour 0: 20 tests, rtt 1..20 ms, one of them down (rtt 10 s, left out of the rtt figures).
	for i := 1; i <= 20; i++ {
		st, rtt := probe.StatusUp, time.Duration(i)*time.Millisecond
		if i == 20 {
			st, rtt = probe.StatusDown, 10*time.Second
		}
		rec(h0.Add(time.Duration(i)*time.Minute), st, rtt, time.Duration(i)*100*time.Microsecond)
	}
	// Hour 1: 2 tests, one warn.
	rec(h0.Add(time.Hour+time.Minute), probe.StatusUp, 30*time.Millisecond, 0)
	rec(h0.Add(time.Hour+2*time.Minute), probe.StatusWarn, 50*time.Millisecond, 0)
	must(t, s.RollUp(ctx, store.Hour, h0, h0.Add(2*time.Hour)))
	must(t, s.RollUp(ctx, store.Hour, h0, h0.Add(2*time.Hour))) // twice: nothing changes
	rs, err := s.Rollups(ctx, m.ID, store.Hour, h0, h0.Add(3*time.Hour))
	if err != nil || len(rs) != 2 {
		t.Fatalf("hourly: %+v %v", rs, err)
	}
	r := rs[0]
	if r.Tests != 20 || r.Up != 19 || r.Down != 1 || r.RTTMin != time.Millisecond || r.RTTMax != 19*time.Millisecond ||
		r.RTTAvg != 10*time.Millisecond || r.RTTP95 != 19*time.Millisecond || r.Delivered != 20 || r.DeliveryMax != 2*time.Millisecond {
		t.Errorf("hour 0: %+v", r)
	}
	if r := rs[1]; r.Tests != 2 || r.Warn != 1 || r.RTTMax != 50*time.Millisecond || r.Delivered != 0 {
		t.Errorf("hour 1: %+v", r)
	}
	day := store.Truncate(store.Day, h0)
	must(t, s.RollUp(ctx, store.Day, day, day.Add(72*time.Hour)))
	ds, err := s.Rollups(ctx, m.ID, store.Day, day, day.Add(72*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var tests, down int
	for _, d := range ds {
		tests, down = tests+d.Tests, down+d.Down
	}
	if tests != 22 || down != 1 {
		t.Errorf("daily sums %d tests, %d down: %+v", tests, down, ds)
	}
	// Raw results pruned, roll-ups stay.
	s.Prune(ctx, time.Now())
	if rs, _ := s.Rollups(ctx, m.ID, store.Hour, h0, h0.Add(3*time.Hour)); len(rs) != 2 {
		t.Errorf("roll-ups went with the raw results")
	}
	if n, err := s.PruneRollups(ctx, store.Hour, h0.Add(time.Hour)); err != nil || n != 1 {
		t.Errorf("PruneRollups: %d %v", n, err)
	}
}

func stateChangesBetween(t *testing.T, s store.Store) {
	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	m := newMonitor(t, s, d.ID, "m", "smtp")
	t0 := time.Now().Add(-10 * time.Hour).Truncate(time.Millisecond)
	for i, to := range []state.State{state.Up, state.Down, state.Up, state.Down} {
		at := t0.Add(time.Duration(i) * time.Hour)
		must(t, s.RecordTest(ctx, store.Test{
			Result: store.Result{MonitorID: m.ID, Time: at, Status: probe.StatusUp},
			Status: store.Status{MonitorID: m.ID, Status: state.Status{State: to}, LastTest: at},
			Change: &store.StateChange{MonitorID: m.ID, Time: at, To: to, Cause: "x"},
		}))
	}
	cs, err := s.StateChangesBetween(ctx, m.ID, t0.Add(90*time.Minute), t0.Add(200*time.Minute))
	// The change before the range (the state at its start), then the two in it.
	if err != nil || len(cs) != 3 || cs[0].To != state.Down || !cs[0].Time.Equal(t0.Add(time.Hour)) || cs[1].To != state.Up || cs[2].To != state.Down {
		t.Errorf("StateChangesBetween = %+v, %v", cs, err)
	}
}
