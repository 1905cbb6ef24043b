package engine

import (
	"context"
	"time"

	"github.com/mailmon/mailmon/internal/report"
	"github.com/mailmon/mailmon/internal/store"
)

// janitor keeps the statistics: hourly and daily roll-ups of the recent
// raw results, and retention (raw results RawRetention, hourly roll-ups
// report.HourlyRetention, daily ones for good, audit entries
// AuditRetention), so the database stops
// growing once the retention periods are reached. SQLite reuses the pages
// deleted rows free, so no VACUUM is needed.
func (e *Engine) janitor(ctx context.Context) {
	tick := time.NewTicker(e.o.JanitorEvery)
	defer tick.Stop()
	for {
		if err := e.Tidy(ctx); err != nil && ctx.Err() == nil {
			e.o.Log.Error("statistics upkeep failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// DefaultAuditRetention is how long audit entries are kept unless serve
// --audit-retention says.
const DefaultAuditRetention = 365 * 24 * time.Hour

// Tidy rolls up and prunes once.
func (e *Engine) Tidy(ctx context.Context) error {
	now := e.o.Now()
	st := e.o.Store
	if err := st.RollUp(ctx, store.Hour, now.Add(-2*time.Hour), now.Add(time.Hour)); err != nil {
		return err
	}
	if err := st.RollUp(ctx, store.Day, now.Add(-48*time.Hour), now.Add(24*time.Hour)); err != nil {
		return err
	}
	if _, err := st.Prune(ctx, now.Add(-e.o.RawRetention)); err != nil {
		return err
	}
	if _, err := st.PruneAudit(ctx, now.Add(-e.o.AuditRetention)); err != nil {
		return err
	}
	_, err := st.PruneRollups(ctx, store.Hour, now.Add(-report.HourlyRetention))
	return err
}
