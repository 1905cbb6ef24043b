package alert

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
)

// An alert action with a schedule notifies within its weekly hours only.
// Whether a notification is in them is decided by when it was raised (the
// state change or test that called for it, n.Created), not when it goes
// out: one raised at 17:59 and retried after 18:00 still goes, one raised
// at 18:01 does not. Raised outside, it is dropped for this action (the
// alert log says why), or held and sent when the hours next begin
// (outside: hold). Recoveries follow the same rule: an action told of an
// outage is not told of its end outside its hours either, unless held.

// outsideHours is why notification n is not delivered to action a now:
// nil when a has no schedule or n was raised within it. Held until a
// time, or dropped (until zero).
type outsideHours struct {
	hours string
	until time.Time
}

func (o *outsideHours) Error() string {
	if o.until.IsZero() {
		return "raised outside the action's schedule (" + o.hours + "): not sent"
	}
	return fmt.Sprintf("raised outside the action's schedule (%s): held until %s", o.hours, o.until.UTC().Format(time.RFC3339))
}

// outside checks notification n against alert a's schedule at now.
func outside(a *store.Alert, n store.Notification, now time.Time) *outsideHours {
	var spec config.Alert
	if json.Unmarshal(a.Spec, &spec) != nil || spec.Schedule == nil {
		return nil
	}
	h := spec.Schedule.Hours()
	if h.Contains(n.Created) {
		return nil
	}
	o := &outsideHours{hours: h.String()}
	if !spec.Schedule.Holds() {
		return o
	}
	// Held: due at the first start of the hours after it was raised
	// (now or past: it goes).
	if start := h.NextStart(n.Created); now.Before(start) {
		o.until = start
		return o
	}
	return nil
}
