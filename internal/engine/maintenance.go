package engine

import (
	"context"
	"time"

	"github.com/mailmon/mailmon/internal/schedule"
	"github.com/mailmon/mailmon/internal/state"
)

// maintenance reports whether monitor en is in maintenance at now (one of
// its windows, or maintenance begun by hand on it or its device), and
// whether one of the monitors it depends on is (begun by hand, or in the
// Maintenance state): its alerts are then held back, as for a parent
// that is down. A store that cannot say counts as no maintenance begun by
// hand: alerting goes on.
func (e *Engine) maintenance(ctx context.Context, en *entry, now time.Time) (self, parent bool) {
	ms, err := e.o.Store.MaintenancesNow(ctx, now)
	if err != nil {
		e.o.Log.Warn("reading maintenance begun by hand failed; alerting", "monitor", en.m.ID, "err", err)
	}
	self = schedule.InMaintenance(en.spec.Maintenance, schedule.Until(ms, en.m.ID, en.m.DeviceID), now)
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range en.parents {
		if e.status[p].State == state.Maintenance || now.Before(schedule.Until(ms, p, en.m.DeviceID)) {
			parent = true
		}
	}
	return self, parent
}
