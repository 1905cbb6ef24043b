package state

import (
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
)

var t0 = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

const (
	U = probe.StatusUp
	W = probe.StatusWarn
	D = probe.StatusDown
)

// step is one input and what must come of it.
type step struct {
	in      Input
	state   State
	alert   Alert
	held    string
	changed bool
	recov   bool
}

func res(r probe.Status) Input { return Input{Result: r, Enabled: true} }

func run(t *testing.T, p Policy, start Status, steps []step) Status {
	t.Helper()
	s := start
	for i, st := range steps {
		in := st.in
		in.Now = t0.Add(time.Duration(i) * time.Minute)
		if in.Code == "" && in.Result == D {
			in.Code = probe.ConnectFailed
		}
		d := Next(s, in, p)
		if d.Status.State != st.state || d.Alert != st.alert || d.Held != st.held || d.Changed != st.changed || d.Recovery != st.recov {
			t.Fatalf("step %d (%+v): got state %s alert %q held %q changed %v recovery %v (cause %q); want %s %q %q %v %v",
				i, st.in, d.Status.State, d.Alert, d.Held, d.Changed, d.Recovery, d.Cause, st.state, st.alert, st.held, st.changed, st.recov)
		}
		if d.Changed && (d.Cause == "" || !d.Status.Since.Equal(in.Now)) {
			t.Fatalf("step %d: a change without cause or time: %+v", i, d)
		}
		s = d.Status
	}
	return s
}

func TestOutageAlertsLostAndRecovery(t *testing.T) {
	p := Policy{FailuresPerAlert: 3, MaxAlerts: 2}
	s := run(t, p, Status{}, []step{
		{in: res(U), state: Up, changed: true},
		{in: res(D), state: Warn, changed: true},
		{in: res(D), state: Warn},
		{in: res(D), state: Down, alert: FailureAlert, changed: true, recov: true},
		{in: res(D), state: Down},
		{in: res(D), state: Down},
		{in: res(D), state: Lost, alert: FailureAlert, changed: true}, // the 2nd and last alert
		{in: res(D), state: Lost},
		{in: res(D), state: Lost},
		{in: res(D), state: Lost}, // no alert in Lost
		{in: res(U), state: Up, alert: RecoveryAlert, changed: true},
		{in: res(D), state: Warn, changed: true}, // a new outage counts from zero
	})
	if s.Failures != 1 || s.AlertsSent != 0 {
		t.Errorf("counters after recovery: %+v", s)
	}
}

func TestWarnIsNotAnAlert(t *testing.T) {
	run(t, Policy{}, Status{State: Up}, []step{
		{in: res(D), state: Warn, changed: true},
		{in: res(D), state: Warn},
		{in: res(U), state: Up, changed: true}, // no alert was sent: no recovery notice
	})
}

func TestWarnResults(t *testing.T) {
	slow := Input{Result: W, Enabled: true, Code: probe.DeliveredToJunk}
	run(t, Policy{}, Status{State: Up}, []step{
		{in: slow, state: Warn, changed: true},
		{in: slow, state: Warn},
		{in: slow, state: Warn, alert: WarningAlert},
		{in: slow, state: Warn}, // once per episode
		{in: res(U), state: Up, changed: true},
		{in: slow, state: Warn, changed: true},
	})
}

func TestDownThenWarnResultRecovers(t *testing.T) {
	// A warn result after an alerted outage is the end of the outage.
	run(t, Policy{FailuresPerAlert: 1}, Status{State: Up}, []step{
		{in: res(D), state: Down, alert: FailureAlert, changed: true, recov: true},
		{in: res(W), state: Warn, alert: RecoveryAlert, changed: true},
	})
}

func TestDependencyHoldsAlertsAndRecoveryActions(t *testing.T) {
	parentDown := Input{Result: D, Enabled: true, ParentFailing: true}
	s := run(t, Policy{FailuresPerAlert: 2}, Status{State: Up}, []step{
		{in: parentDown, state: Warn, changed: true},
		{in: parentDown, state: Down, held: "dependency", changed: true},
		{in: parentDown, state: Down},
		{in: parentDown, state: Down, held: "dependency"},
		{in: res(U), state: Up, changed: true}, // nothing was sent: no recovery notice
	})
	if s.AlertsSent != 0 {
		t.Errorf("held alerts counted: %+v", s)
	}
	// Parent back, child still failing: its alert goes out at the next due failure.
	run(t, Policy{FailuresPerAlert: 2}, Status{State: Up}, []step{
		{in: parentDown, state: Warn, changed: true},
		{in: parentDown, state: Down, held: "dependency", changed: true},
		{in: res(D), state: Down},
		{in: res(D), state: Down, alert: FailureAlert},
	})
}

func TestFlappingHoldsFailureAlertsNotRecovery(t *testing.T) {
	p := Policy{FailuresPerAlert: 1, MaxAlerts: 100}
	var s Status
	// 21 alternating results: every possible change happened.
	for i := 0; i < 21; i++ {
		r := U
		if i%2 == 1 {
			r = D
		}
		s = Next(s, Input{Now: t0, Result: r, Enabled: true}, p).Status
	}
	if !s.Flapping || s.changeRate() < 0.99 {
		t.Fatalf("not flapping after alternating results: rate %.2f %+v", s.changeRate(), s)
	}
	d := Next(s, Input{Now: t0, Result: D, Enabled: true}, p)
	if d.Alert != NoAlert || d.Held != "flapping" {
		t.Errorf("failure alert while flapping: %+v", d)
	}
	s = d.Status
	// A recovery after a sent alert is never held back.
	s.AlertsSent = 1
	if d := Next(s, Input{Now: t0, Result: U, Enabled: true}, p); d.Alert != RecoveryAlert {
		t.Errorf("recovery held while flapping: %+v", d)
	}
	// Steady results end the flapping (hysteresis down to the low threshold).
	for i := 0; i < 21; i++ {
		s = Next(s, Input{Now: t0, Result: U, Enabled: true}, p).Status
	}
	if s.Flapping {
		t.Errorf("still flapping after 21 steady results: %.2f", s.changeRate())
	}
}

func TestChangeRateWeighsNewestMost(t *testing.T) {
	newest := Status{Results: flapWindow, History: 0b1}                     // one change, the newest
	oldest := Status{Results: flapWindow, History: 0b1 << (flapWindow - 1)} // one change, the oldest
	if n, o := newest.changeRate(), oldest.changeRate(); !(n > o) || n < 0.05 || o < 0.03 {
		t.Errorf("newest change %.3f, oldest %.3f", n, o)
	}
	if r := (&Status{Results: 5, History: 0b10101}).changeRate(); r != 0 {
		t.Errorf("judged flapping on 5 results: %.2f", r)
	}
}

func TestMaintenanceAndDisabled(t *testing.T) {
	maint := Input{Result: D, Enabled: true, Maintenance: true}
	run(t, Policy{FailuresPerAlert: 1}, Status{State: Down, AlertsSent: 1, Failures: 4}, []step{
		{in: maint, state: Maintenance, changed: true},
		{in: maint, state: Maintenance},
		{in: res(U), state: Up, changed: true}, // the window closed the outage
		{in: Input{Result: D, Enabled: false}, state: Disabled, changed: true},
		{in: Input{Enabled: true}, state: Pending, changed: true},
		{in: res(D), state: Down, alert: FailureAlert, changed: true, recov: true},
	})
}

func TestSurvivesRestart(t *testing.T) {
	// Status is all there is: a daemon restarted mid-outage continues the
	// count instead of alerting again or forgetting the recovery notice.
	p := Policy{FailuresPerAlert: 3, MaxAlerts: 5}
	s := run(t, p, Status{}, []step{
		{in: res(D), state: Warn, changed: true},
		{in: res(D), state: Warn},
		{in: res(D), state: Down, alert: FailureAlert, changed: true, recov: true},
	})
	restored := s // what the store gives back after a restart
	run(t, p, restored, []step{
		{in: res(D), state: Down},
		{in: res(U), state: Up, alert: RecoveryAlert, changed: true},
	})
}

// TestOutageStartKeptThroughLost: escalations count from the change to
// Down, which Lost (a later change) does not move; the outage and its
// escalations are forgotten once the monitor stops failing.
func TestOutageStartKeptThroughLost(t *testing.T) {
	p := Policy{FailuresPerAlert: 1, MaxAlerts: 2}
	var s Status
	now := t0
	next := func(r probe.Status) Decision {
		t.Helper()
		now = now.Add(time.Minute)
		d := Next(s, Input{Now: now, Result: r, Enabled: true, Code: probe.ConnectFailed}, p)
		s = d.Status
		return d
	}
	next(U)
	if !s.Outage.IsZero() {
		t.Fatalf("up: outage %v, want none", s.Outage)
	}
	next(D)
	down := now
	if s.State != Down || !s.Outage.Equal(down) {
		t.Fatalf("down: %s since %v, outage %v; want down, outage %v", s.State, s.Since, s.Outage, down)
	}
	s.Escalated = []int64{7}
	next(D)
	if s.State != Lost || !s.Outage.Equal(down) || s.Since.Equal(down) {
		t.Fatalf("lost: %s since %v, outage %v; want lost since later, outage %v", s.State, s.Since, s.Outage, down)
	}
	if d := next(U); d.Alert != RecoveryAlert || !s.Outage.IsZero() || s.Escalated != nil {
		t.Fatalf("recovered: alert %q, outage %v, escalated %v; want a recovery, neither kept", d.Alert, s.Outage, s.Escalated)
	}
	next(D)
	s.Escalated = []int64{7}
	if d := Next(s, Input{Now: now.Add(time.Minute), Enabled: true, Maintenance: true}, p); !d.Status.Outage.IsZero() || d.Status.Escalated != nil {
		t.Fatalf("maintenance: outage %v, escalated %v; want neither", d.Status.Outage, d.Status.Escalated)
	}
}
