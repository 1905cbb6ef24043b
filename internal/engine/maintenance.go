package engine

import (
	"context"
	"sync"
	"time"

	"github.com/mailmon/mailmon/internal/schedule"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// maintenance reports whether monitor en is in maintenance at now (one of
// its windows or its device's, or maintenance begun by hand on it or its
// device), and
// whether one of the monitors it depends on is (begun by hand, or in the
// Maintenance state): its alerts are then held back, as for a parent
// that is down. A store that cannot say counts as no maintenance begun by
// hand: alerting goes on.
func (e *Engine) maintenance(ctx context.Context, en *entry, now time.Time) (self, parent bool) {
	ms := e.maints.get(ctx, e, now)
	self = schedule.InMaintenance(en.windows(), schedule.Until(ms, en.m.ID, en.m.DeviceID), now)
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range en.parents() {
		if e.status[p].State == state.Maintenance || now.Before(schedule.Until(ms, p, en.m.DeviceID)) {
			parent = true
		}
	}
	return self, parent
}

// maintCacheFor is how long a read of maintenance begun by hand serves:
// a test does not query the store each time (a burst of tests at start
// would wait on it); maintenance begun or ended takes effect within it.
const maintCacheFor = time.Second

// maintCache is the maintenance begun by hand last read, and when.
type maintCache struct {
	mu sync.Mutex
	at time.Time
	ms []store.MaintenanceNow
}

// get is the maintenance begun by hand not ended at now, read again when
// the last read is older than maintCacheFor (or failed).
func (c *maintCache) get(ctx context.Context, e *Engine, now time.Time) []store.MaintenanceNow {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && now.Sub(c.at) < maintCacheFor && now.Sub(c.at) >= 0 {
		return c.ms
	}
	ms, err := e.o.Store.MaintenancesNow(ctx, now)
	if err != nil {
		e.o.Log.Warn("reading maintenance begun by hand failed; alerting", "err", err)
		return c.ms
	}
	c.at, c.ms = now, ms
	return ms
}

// deviceVersions are the stored versions (Updated) of the devices.
func (e *Engine) deviceVersions(ctx context.Context) (map[int64]time.Time, error) {
	return versions(ctx, e.o.Store.Devices, store.DeviceID, func(d *store.Device) time.Time { return d.Updated })
}
