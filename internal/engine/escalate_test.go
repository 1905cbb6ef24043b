package engine

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
)

// escalation is the setting of the escalation tests: actions chat (the
// monitor's; it escalates to pager after 15 minutes), pager and boss (the
// monitor's own escalation, after 30 minutes), a monitor whose test fails
// while down is set, and a clock the test moves. No outbox runs: what
// each test stores in the outbox is what is checked.
type escalation struct {
	ctx               context.Context
	st                store.Store
	down              atomic.Bool
	now               atomic.Int64 // the clock: Unix nanoseconds
	chat, pager, boss int64
	m                 *store.Monitor
}

var outageStart = time.Date(2026, 3, 28, 23, 50, 0, 0, time.UTC)

func newEscalation(t *testing.T) *escalation {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mailmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &escalation{ctx: ctx, st: st}
	f.at(0)
	put := func(a config.Alert) int64 {
		a.Webhook = &config.Webhook{}
		spec, _ := json.Marshal(a)
		sa := &store.Alert{Name: a.Name, Kind: "webhook", Spec: spec}
		must(t, st.PutAlert(ctx, sa))
		return sa.ID
	}
	f.pager = put(config.Alert{Name: "pager"})
	f.boss = put(config.Alert{Name: "boss"})
	f.chat = put(config.Alert{Name: "chat", Escalate: &config.Escalation{After: config.Duration(15 * time.Minute), To: []string{"pager"}}})
	dev := &store.Device{Name: "mail1", Address: "127.0.0.1"}
	must(t, st.PutDevice(ctx, dev))
	every := config.Duration(5 * time.Minute)
	mspec, _ := json.Marshal(config.Monitor{Port: 25,
		Timing: config.Timing{MaxDuration: config.Duration(time.Second), UpEvery: every, DownEvery: every, LostEvery: every},
		Notify: config.Notify{FailuresPerAlert: 1, MaxAlerts: 3,
			Escalate: &config.Escalation{After: config.Duration(30 * time.Minute), To: []string{"boss", "chat"}}}})
	f.m = &store.Monitor{DeviceID: dev.ID, Name: "SMTP", Type: "tcp", Enabled: true, Spec: mspec}
	must(t, st.PutMonitor(ctx, f.m))
	must(t, st.SetMonitorAlerts(ctx, f.m.ID, []int64{f.chat}))
	return f
}

func (f *escalation) clock() time.Time { return time.Unix(0, f.now.Load()).UTC() }

// at sets the clock to the outage's start plus d.
func (f *escalation) at(d time.Duration) { f.now.Store(outageStart.Add(d).UnixNano()) }

// engine is a new engine on the store (a restart makes another), loaded.
func (f *escalation) engine(t *testing.T) *Engine {
	t.Helper()
	prober := func(ctx context.Context, cfg *probe.Config, tr *probe.Trace) error {
		if f.down.Load() {
			return denied(ctx, cfg, tr)
		}
		return nil
	}
	e := New(Options{Store: f.st, Now: f.clock, Probers: func(string) (probe.Prober, bool) { return prober, true },
		Timing: config.TimingLimits{MinInterval: time.Millisecond}})
	must(t, e.Load(f.ctx))
	return e
}

// test runs one test at d into the outage and returns the wait until the
// next one.
func (f *escalation) test(t *testing.T, e *Engine, d time.Duration) time.Duration {
	t.Helper()
	f.at(d)
	return e.test(f.ctx, f.m.ID, time.Time{})
}

// sent is what the outbox holds, as "action:kind" (escalated ones marked
// with a !), oldest first.
func (f *escalation) sent(t *testing.T) []string {
	t.Helper()
	ns, err := f.st.Notifications(f.ctx, f.m.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	names := map[int64]string{f.chat: "chat", f.pager: "pager", f.boss: "boss"}
	var out []string
	for _, n := range slices.Backward(ns) {
		var ev alert.Event
		must(t, json.Unmarshal(n.Payload, &ev))
		s := names[n.AlertID] + ":" + n.Kind
		if ev.Escalated {
			s += "!"
		}
		out = append(out, s)
	}
	return out
}

func (f *escalation) want(t *testing.T, when string, want ...string) {
	t.Helper()
	got := f.sent(t)
	if !slices.Equal(got, want) {
		t.Fatalf("%s: outbox %v, want %v", when, got, want)
	}
}

// TestEscalationAtTheMinute: after 15 minutes Down the action's
// escalation tells pager, after 30 the monitor's tells boss (chat, its
// own action, is not told twice); not before, not twice, through Lost;
// the test before each is brought forward to its minute; the recovery
// reaches every action told.
func TestEscalationAtTheMinute(t *testing.T) {
	f := newEscalation(t)
	e := f.engine(t)
	f.down.Store(true)
	if wait := f.test(t, e, 0); wait != 5*time.Minute {
		t.Errorf("wait after going down: %v, want the 5m of down_every", wait)
	}
	f.want(t, "down", "chat:alert")
	if wait := f.test(t, e, 12*time.Minute); wait != 3*time.Minute {
		t.Errorf("wait at 12m: %v, want 3m (to the escalation at 15m)", wait)
	}
	f.test(t, e, 15*time.Minute-time.Millisecond)
	f.want(t, "just before 15m", "chat:alert", "chat:alert", "chat:alert")
	if st, _ := f.st.Status(f.ctx, f.m.ID); st.Status.State != state.Lost {
		t.Fatalf("state %s, want lost (max_alerts 3): escalation goes on through Lost", st.Status.State)
	}
	if wait := f.test(t, e, 15*time.Minute); wait != 5*time.Minute {
		t.Errorf("wait at 15m: %v, want 5m (to boss's escalation at 30m, and the lost_every of 5m)", wait)
	}
	f.want(t, "at 15m", "chat:alert", "chat:alert", "chat:alert", "pager:alert!")
	f.test(t, e, 16*time.Minute)
	f.test(t, e, 29*time.Minute)
	f.want(t, "before 30m", "chat:alert", "chat:alert", "chat:alert", "pager:alert!")
	f.test(t, e, 30*time.Minute)
	f.test(t, e, 31*time.Minute)
	f.want(t, "after 30m", "chat:alert", "chat:alert", "chat:alert", "pager:alert!", "boss:alert!")
	f.down.Store(false)
	f.test(t, e, 40*time.Minute)
	f.want(t, "recovered", "chat:alert", "chat:alert", "chat:alert", "pager:alert!", "boss:alert!",
		"chat:recovery", "pager:recovery", "boss:recovery")

	// The next outage escalates again, from its own start.
	f.down.Store(true)
	f.test(t, e, 50*time.Minute)
	f.test(t, e, 64*time.Minute)
	if got := f.sent(t); slices.Contains(got[8:], "pager:alert!") {
		t.Fatalf("a new outage escalated after 14 minutes: %v", got)
	}
	f.test(t, e, 65*time.Minute)
	if got := f.sent(t); !slices.Contains(got[8:], "pager:alert!") {
		t.Fatalf("a new outage did not escalate after 15 minutes: %v", got)
	}
}

// TestEscalationNotAfterAck: an outage acknowledged (while Down, the
// escalation due while Lost) is not escalated; its recovery goes to the
// monitor's own actions only.
func TestEscalationNotAfterAck(t *testing.T) {
	f := newEscalation(t)
	e := f.engine(t)
	f.down.Store(true)
	f.test(t, e, 0)
	st, err := f.st.Status(f.ctx, f.m.ID)
	must(t, err)
	must(t, f.st.PutAck(f.ctx, store.Ack{MonitorID: f.m.ID, Since: st.Status.Since.UTC().Truncate(time.Millisecond), By: "test", At: f.clock()}))
	for _, d := range []time.Duration{5, 10, 15, 20, 30, 35} {
		f.test(t, e, d*time.Minute)
	}
	f.down.Store(false)
	f.test(t, e, 40*time.Minute)
	f.want(t, "acknowledged", "chat:alert", "chat:recovery")
}

// TestEscalationNotInMaintenance: maintenance begun during an outage ends
// it without escalating; an outage after the maintenance counts from its
// own start.
func TestEscalationNotInMaintenance(t *testing.T) {
	f := newEscalation(t)
	e := f.engine(t)
	f.down.Store(true)
	f.test(t, e, 0)
	must(t, f.st.PutMaintenanceNow(f.ctx, store.MaintenanceNow{MonitorID: f.m.ID, Until: outageStart.Add(20 * time.Minute), By: "test", At: f.clock()}))
	f.test(t, e, 10*time.Minute)
	f.test(t, e, 15*time.Minute)
	f.test(t, e, 19*time.Minute)
	f.want(t, "in maintenance", "chat:alert")
	f.test(t, e, 21*time.Minute) // down again, a new outage
	f.test(t, e, 35*time.Minute)
	f.want(t, "14 minutes into the next outage", "chat:alert", "chat:alert", "chat:alert")
	f.test(t, e, 36*time.Minute)
	f.want(t, "15 minutes into the next outage", "chat:alert", "chat:alert", "chat:alert", "chat:alert", "pager:alert!")
}

// TestEscalationAcrossRestart: an outage that began 14 minutes before a
// restart escalates 15 minutes after it began, not 15 after the restart;
// the new engine's first test is placed before the escalation's minute
// (not anywhere in lost_every's 5 minutes).
func TestEscalationAcrossRestart(t *testing.T) {
	f := newEscalation(t)
	e := f.engine(t)
	f.down.Store(true)
	f.test(t, e, 0)
	f.test(t, e, 5*time.Minute)
	f.test(t, e, 10*time.Minute)
	f.at(14 * time.Minute)
	e = f.engine(t) // the restart, a minute before the escalation
	due, ok := e.sched.Due(f.m.ID)
	if !ok || due.After(outageStart.Add(15*time.Minute)) {
		t.Errorf("first test after the restart at %v (scheduled %v), want before the escalation at %v", due, ok, outageStart.Add(15*time.Minute))
	}
	if wait := f.test(t, e, 14*time.Minute+30*time.Second); wait != 30*time.Second {
		t.Errorf("wait at 14m30s: %v, want 30s", wait)
	}
	f.want(t, "before 15m", "chat:alert", "chat:alert", "chat:alert")
	f.test(t, e, 15*time.Minute)
	f.want(t, "at 15m", "chat:alert", "chat:alert", "chat:alert", "pager:alert!")
}

// recordsLate is a store whose RecordTest ends a second later on the
// escalation's clock (a busy database).
type recordsLate struct {
	store.Store
	f *escalation
}

func (s recordsLate) RecordTest(ctx context.Context, t store.Test) error {
	s.f.now.Add(int64(time.Second))
	return s.Store.RecordTest(ctx, t)
}

// TestEscalationDueAfterTheRecord: a test recorded just before an
// escalation's minute whose record ends after it gets its ordinary
// interval until the next test (which escalates). It got zero, which the
// scheduler reads as a minute: on two K-of-N locations whose tests did
// not decide the round, both stopped testing a monitor down every 300 ms
// for a minute, and the escalation waited as long.
func TestEscalationDueAfterTheRecord(t *testing.T) {
	f := newEscalation(t)
	e := New(Options{Store: recordsLate{f.st, f}, Now: f.clock, Probers: func(string) (probe.Prober, bool) { return denied, true },
		Timing: config.TimingLimits{MinInterval: time.Millisecond}})
	must(t, e.Load(f.ctx))
	f.test(t, e, 0)
	if wait := f.test(t, e, 15*time.Minute-time.Second/2); wait <= 0 || wait > 5*time.Minute {
		t.Errorf("wait after a record that ended past the escalation's minute: %v, want the 5m of down_every at most, and more than 0", wait)
	}
	f.want(t, "just before 15m", "chat:alert", "chat:alert")
	if wait := f.test(t, e, 16*time.Minute); wait <= 0 {
		t.Errorf("wait after escalating: %v", wait)
	}
	f.want(t, "at the next test", "chat:alert", "chat:alert", "chat:alert", "pager:alert!")
}
