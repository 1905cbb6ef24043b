package engine

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// Escalation: while a monitor's outage lasts unacknowledged, the actions
// its escalations name are told too, once each, at the minute: each test
// of a failing monitor looks at what is due, and the test after it is
// brought forward to the next escalation's time. What was told is kept
// in the monitor's status (state.Status.Escalated) and stored with the
// test, in the same transaction as the notifications, under the node's
// lease: one node, once, and a restart goes on from the stored outage
// start. The escalated actions are told of the recovery too.

// step is one escalation of a monitor: after the outage began, the
// actions to (alert ids).
type step struct {
	after time.Duration
	to    []int64
}

// steps are the escalations of monitor en: its own (notify.escalate) and
// those of its alert actions, read afresh (an action changed by apply
// takes effect at the next test). A name that no longer resolves is
// skipped.
func (e *Engine) steps(ctx context.Context, en *entry) []step {
	var specs []*config.Escalation
	if esc := en.escalation(); esc != nil {
		specs = append(specs, esc)
	}
	for _, id := range en.alerts {
		a, err := e.o.Store.Alert(ctx, id)
		if err != nil {
			continue
		}
		var spec config.Alert
		if json.Unmarshal(a.Spec, &spec) == nil && spec.Escalate != nil {
			specs = append(specs, spec.Escalate)
		}
	}
	var out []step
	for _, sp := range specs {
		s := step{after: sp.After.D()}
		for _, name := range sp.To {
			a, err := e.o.Store.AlertByName(ctx, name)
			if err != nil {
				if !errors.Is(err, store.ErrNotFound) {
					e.o.Log.Warn("reading an escalation's action failed", "monitor", en.m.ID, "alert", name, "err", err)
				}
				continue
			}
			if !slices.Contains(en.alerts, a.ID) {
				s.to = append(s.to, a.ID) // the monitor's own actions are told already
			}
		}
		if len(s.to) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// escalate adds to d the escalations due at now, and returns their
// notifications (built by event) and when the next is due (zero: none).
// Nothing escalates while alerts are held back (a parent down, flapping),
// nor once the outage is acknowledged; maintenance ends the outage.
func (e *Engine) escalate(ctx context.Context, en *entry, d *state.Decision, now time.Time, event func() alert.Event) ([]store.Notification, time.Time) {
	st := d.Status
	if !st.State.Failing() || st.Outage.IsZero() || st.Suppressed != "" {
		return nil, time.Time{}
	}
	steps := e.steps(ctx, en)
	var due []int64
	var next time.Time
	for _, s := range steps {
		at := st.Outage.Add(s.after)
		for _, id := range s.to {
			if slices.Contains(st.Escalated, id) || slices.Contains(due, id) {
				continue
			}
			if now.Before(at) {
				if next.IsZero() || at.Before(next) {
					next = at
				}
				continue
			}
			due = append(due, id)
		}
	}
	if (len(due) == 0 && next.IsZero()) || e.outageAcknowledged(ctx, en.m.ID, st) {
		return nil, time.Time{}
	}
	if len(due) == 0 {
		return nil, next
	}
	d.Status.Escalated = append(slices.Clone(st.Escalated), due...)
	e.o.Log.Info("outage escalated", "monitor", en.m.ID, "alerts", due, "outage", st.Outage)
	return alert.Escalations(event(), st.Outage, due, e.ackURL(en.m.ID, st)), next
}

// escalateAt is when monitor id's next escalation is due (zero: none),
// as its last test found.
func (e *Engine) escalateAt(id int64) time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.escalations[id]
}

func (e *Engine) setEscalateAt(id int64, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if at.IsZero() {
		delete(e.escalations, id)
	} else {
		e.escalations[id] = at
	}
}

// untilEscalation shortens wait, the time to a monitor's next test, to
// its next escalation's: the test that escalates runs at the minute. An
// escalation already due that the last test did not make (its record
// began before the minute and ended after it; a K-of-N location whose
// test did not decide the round) is left to the next ordinary test: a
// wait of zero would be the scheduler's "a minute" (however short the
// interval), and a shorter one would test over and over until a test
// that can escalate comes.
func (e *Engine) untilEscalation(id int64, wait time.Duration) time.Duration {
	at := e.escalateAt(id)
	if left := at.Sub(e.o.Now()); !at.IsZero() && left > 0 {
		return min(wait, left)
	}
	return wait
}

// recipients are the actions decision d's notification goes to: the
// monitor's, and for a recovery those its outage escalated to (prev).
func recipients(en *entry, d state.Decision, prev state.Status) []int64 {
	if d.Alert != state.RecoveryAlert || len(prev.Escalated) == 0 {
		return en.alerts
	}
	out := slices.Clone(en.alerts)
	for _, id := range prev.Escalated {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
