package engine

import (
	"context"
	"errors"
	"time"

	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// acknowledged reports whether decision d's alert is one of an outage
// someone acknowledged: no more alerts for it (nor the one that makes it
// Lost). A recovery is never held back (the outage it ends was
// acknowledged, not its end), nor a warning.
func (e *Engine) acknowledged(ctx context.Context, id int64, d state.Decision) bool {
	return d.Alert == state.FailureAlert && e.outageAcknowledged(ctx, id, d.Status)
}

// outageAcknowledged reports whether someone acknowledged st's outage,
// while it was Down or, later, Lost. A store that cannot say counts as
// not acknowledged: the alert or escalation goes out.
func (e *Engine) outageAcknowledged(ctx context.Context, id int64, st state.Status) bool {
	a, err := e.o.Store.AckOf(ctx, id)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			e.o.Log.Warn("reading an acknowledgement failed; alerting", "monitor", id, "err", err)
		}
		return false
	}
	return a.Covers(st) || st.State.Failing() && !st.Outage.IsZero() && !a.Since.Before(st.Outage.UTC().Truncate(time.Millisecond))
}
