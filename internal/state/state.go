// Package state decides a monitor's state from its test results: a pure
// transition function, Next, with the clock passed in. It knows the states
// of docs/monitors.md, the failures counted before an alert, the alerts counted
// before Lost, flapping, dependencies and maintenance; it sends nothing
// itself but says which alert is due and why one is held back.
package state

import (
	"fmt"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
)

// State of a monitor.
type State string

// The states.
const (
	Pending     State = "pending" // never tested
	Up          State = "up"
	Warn        State = "warn" // failed, fewer times than an alert needs; or slow, or a warning
	Down        State = "down" // failure confirmed, alerts being sent
	Lost        State = "lost" // the maximum of alerts sent: no more failure alerts, recovery still
	Disabled    State = "disabled"
	Maintenance State = "maintenance"
)

// States lists every state.
func States() []State { return []State{Pending, Up, Warn, Down, Lost, Disabled, Maintenance} }

// Failing reports whether a state means the service is failing (for a
// dependent monitor: its parent is failing).
func (s State) Failing() bool { return s == Down || s == Lost }

// Policy is a monitor's notification control.
type Policy struct {
	FailuresPerAlert int // failed tests in a row for each alert (default 3)
	MaxAlerts        int // failure alerts before Lost (default 5)
	FlapHigh         float64
	FlapLow          float64
}

// Defaults of the notification control; flap thresholds as Nagios has them.
const (
	DefaultFailuresPerAlert = 3
	DefaultMaxAlerts        = 5
	DefaultFlapHigh         = 0.50
	DefaultFlapLow          = 0.25
	flapWindow              = 21 // results kept for flap detection: 20 possible changes
)

func (p Policy) withDefaults() Policy {
	if p.FailuresPerAlert <= 0 {
		p.FailuresPerAlert = DefaultFailuresPerAlert
	}
	if p.MaxAlerts <= 0 {
		p.MaxAlerts = DefaultMaxAlerts
	}
	if p.FlapHigh <= 0 {
		p.FlapHigh = DefaultFlapHigh
	}
	if p.FlapLow <= 0 || p.FlapLow > p.FlapHigh {
		p.FlapLow = DefaultFlapLow
	}
	return p
}

// Status is what is kept of a monitor between tests, and survives restarts.
type Status struct {
	State      State
	Since      time.Time // when State was entered
	Failures   int       // failed tests in a row
	Warnings   int       // warn results in a row
	AlertsSent int       // failure alerts sent in this outage
	WarnAlert  bool      // the warning alert of this warn episode was sent
	History    uint32    // last results, newest in bit 0: 1 = failed
	Results    int       // how many results History holds (≤ flapWindow)
	Flapping   bool
	Suppressed string // why alerts are held back now ("dependency", "flapping", "maintenance"), shown to people
	// Outage is when the monitor went Down (kept through Lost; zero when
	// not failing): escalations count from it.
	Outage time.Time `json:",omitzero"`
	// Escalated are the alert actions an escalation told of this outage
	// (their ids): told once, and told of its end.
	Escalated []int64 `json:",omitempty"`
}

// Input is one thing that happened to a monitor.
type Input struct {
	Now           time.Time
	Result        probe.Status // up, warn or down; "" when no test ran (a config change)
	Code          probe.Code   // the result's error code
	Enabled       bool
	Maintenance   bool // inside a maintenance window
	ParentFailing bool // a monitor it depends on is Down or Lost
}

// Alert is the notification a transition calls for.
type Alert string

// The alerts.
const (
	NoAlert       Alert = ""
	FailureAlert  Alert = "alert"    // a failure, confirmed
	WarningAlert  Alert = "warning"  // warn results that persisted (slow, certificate, junk)
	RecoveryAlert Alert = "recovery" // back Up after an alert was sent
)

// Decision is what Next decided.
type Decision struct {
	Status   Status
	Changed  bool   // the state changed: record it with Cause
	Cause    string // why, for people
	Alert    Alert  // due now
	Held     string // an alert that was due but held back, and why
	Recovery bool   // the monitor just went Down: run its recovery actions
}

// Next is the transition function.
func Next(prev Status, in Input, p Policy) Decision {
	p = p.withDefaults()
	s := prev
	if s.State == "" {
		s.State = Pending
	}
	d := Decision{}
	set := func(st State, cause string) {
		if st != s.State {
			d.Changed, d.Cause = true, cause
			s.State, s.Since = st, in.Now
		}
	}
	switch {
	case !in.Enabled:
		set(Disabled, "disabled")
		s.Failures, s.Warnings, s.AlertsSent, s.WarnAlert, s.Suppressed = 0, 0, 0, false, ""
		s.outage()
		d.Status = s
		return d
	case in.Maintenance:
		// A maintenance window ends an outage without a recovery notice:
		// the people who scheduled it know.
		set(Maintenance, "maintenance window")
		s.Failures, s.Warnings, s.AlertsSent, s.WarnAlert, s.Suppressed = 0, 0, 0, false, "maintenance"
		s.outage()
		d.Status = s
		return d
	case in.Result == "":
		if s.State == Disabled || s.State == Maintenance {
			set(Pending, "enabled again")
			s.Suppressed = ""
		}
		s.outage()
		d.Status = s
		return d
	}

	failed := in.Result == probe.StatusDown
	s.recordResult(failed)
	wasFlapping := s.Flapping
	s.Flapping = s.flapping(p, wasFlapping)
	s.Suppressed = ""
	switch {
	case in.ParentFailing:
		s.Suppressed = "dependency"
	case s.Flapping:
		s.Suppressed = "flapping"
	}

	switch in.Result {
	case probe.StatusUp, probe.StatusWarn:
		alerted := s.AlertsSent > 0
		s.Failures, s.AlertsSent = 0, 0
		if in.Result == probe.StatusUp {
			s.Warnings, s.WarnAlert = 0, false
			set(Up, "test passed")
		} else {
			s.Warnings++
			set(Warn, fmt.Sprintf("warning: %s", orText(in.Code, "slow response")))
			if s.Warnings >= p.FailuresPerAlert && !s.WarnAlert {
				d.Alert, s.WarnAlert = WarningAlert, true
			}
		}
		if alerted {
			// A recovery is never held back or lost: whoever was told of
			// the outage is told of its end.
			d.Alert = RecoveryAlert
		}
	case probe.StatusDown:
		s.Failures++
		s.Warnings, s.WarnAlert = 0, false
		cause := fmt.Sprintf("%s (failure %d)", orText(in.Code, "test failed"), s.Failures)
		if s.Failures < p.FailuresPerAlert && s.AlertsSent == 0 && !s.State.Failing() {
			set(Warn, cause)
			break
		}
		if s.State != Lost {
			if s.State != Down && s.Suppressed != "dependency" {
				d.Recovery = true // confirmed Down: corrective actions run once
			}
			set(Down, cause)
		}
		if s.Failures%p.FailuresPerAlert != 0 || s.State == Lost {
			break
		}
		if s.Suppressed != "" {
			d.Held = s.Suppressed // a held alert does not count toward Lost
			break
		}
		d.Alert = FailureAlert
		s.AlertsSent++
		if s.AlertsSent >= p.MaxAlerts {
			set(Lost, fmt.Sprintf("%s: %d alerts sent, no more until it recovers", cause, s.AlertsSent))
		}
	}
	if d.Alert == WarningAlert && s.Suppressed != "" {
		d.Held, d.Alert, s.WarnAlert = s.Suppressed, NoAlert, false
	}
	s.outage()
	d.Status = s
	return d
}

// outage keeps the start of the outage while the monitor fails, and
// forgets it and its escalations when it stops.
func (s *Status) outage() {
	switch {
	case !s.State.Failing():
		s.Outage, s.Escalated = time.Time{}, nil
	case s.Outage.IsZero():
		s.Outage = s.Since // went Down now (or before this was kept)
	}
}

func orText(c probe.Code, def string) string {
	if c == "" {
		return def
	}
	return string(c)
}

func (s *Status) recordResult(failed bool) {
	s.History <<= 1
	if failed {
		s.History |= 1
	}
	s.History &= 1<<flapWindow - 1
	if s.Results < flapWindow {
		s.Results++
	}
}

// changeRate is the share of state changes among the last results, weighted
// from 0.8 for the oldest change to 1.2 for the newest, as Nagios does.
func (s *Status) changeRate() float64 {
	n := s.Results - 1 // possible changes
	if n < flapWindow-1 {
		return 0 // too few results to judge
	}
	var changes, total float64
	for i := 0; i < n; i++ { // i = 0 is the newest change
		w := 0.8 + 0.4*float64(n-1-i)/float64(n-1)
		total += w
		if (s.History>>i)&1 != (s.History>>(i+1))&1 {
			changes += w
		}
	}
	return changes / total
}

func (s *Status) flapping(p Policy, was bool) bool {
	r := s.changeRate()
	if was {
		return r >= p.FlapLow
	}
	return r > p.FlapHigh
}
