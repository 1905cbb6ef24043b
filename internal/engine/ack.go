package engine

import (
	"context"
	"errors"

	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// acknowledged reports whether decision d's alert is one of an outage
// someone acknowledged: no more alerts for it. A recovery is never held
// back (the outage it ends was acknowledged, not its end), nor a warning.
func (e *Engine) acknowledged(ctx context.Context, id int64, d state.Decision) bool {
	if d.Alert != state.FailureAlert {
		return false
	}
	a, err := e.o.Store.AckOf(ctx, id)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			e.o.Log.Warn("reading an acknowledgement failed; alerting", "monitor", id, "err", err)
		}
		return false
	}
	return a.Covers(d.Status)
}

// ackURL makes each alert action's acknowledgement link of decision d's
// alert: of an outage, while there is one (nil: no links).
func (e *Engine) ackURL(monitor int64, d state.Decision) func(alert int64) string {
	if e.o.AckLinks == nil || d.Alert != state.FailureAlert {
		return nil
	}
	since, now := d.Status.Since, e.o.Now()
	return func(alert int64) string { return e.o.AckLinks.URL(monitor, since, alert, now) }
}
