package engine

import (
	"context"
	"sync"
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

// rollSettle is how long after its end a bucket of roll-ups can still
// change: a test's result is stored at its start time, up to its longest
// duration later (max_duration, under up_every: minutes). A bucket is
// rolled by every pass until the first that starts this long after its
// end, never again after (reports read a bucket's roll-up from an hour
// after its end, report.rollEnd, or its raw results until then).
const rollSettle = time.Hour

// rolled is where the janitor's roll-ups stand: the first hour and the
// first day not yet rolled for the last time (zero: not known yet, found
// in the store at the first pass, so that a node that was down rolls what
// it missed when it starts), and the hour of the last prune.
type rolled struct {
	mu        sync.Mutex
	hour, day time.Time
	pruned    time.Time
}

// Tidy rolls up and prunes once: the buckets that can still change
// (rollSettle), the days once all their hours are final, and, once an
// hour, what is past its retention.
func (e *Engine) Tidy(ctx context.Context) error {
	e.rolled.mu.Lock()
	defer e.rolled.mu.Unlock()
	now := e.o.Now()
	st := e.o.Store
	if err := e.rollUp(ctx, now); err != nil {
		return err
	}
	if _, err := st.PruneAudit(ctx, now.Add(-e.o.AuditRetention)); err != nil {
		return err
	}
	// What a prune deletes grows by 5 minutes' results a pass, what it
	// costs by a seek a monitor: once an hour is enough.
	if hour := store.Truncate(store.Hour, now); hour.After(e.rolled.pruned) {
		if _, err := st.Prune(ctx, now.Add(-e.o.RawRetention)); err != nil {
			return err
		}
		if _, err := st.PruneRollups(ctx, store.Hour, now.Add(-report.HourlyRetention)); err != nil {
			return err
		}
		e.rolled.pruned = hour
	}
	return nil
}

// rollUp rolls the hours from the first not final to the current one, and
// the days whose hours are all final and that were not rolled since.
func (e *Engine) rollUp(ctx context.Context, now time.Time) error {
	st := e.o.Store
	r := &e.rolled
	if r.hour.IsZero() {
		if err := e.resume(ctx, now); err != nil {
			return err
		}
	}
	if err := st.RollUp(ctx, store.Hour, r.hour, now.Add(time.Hour)); err != nil {
		return err
	}
	final := now.Add(-rollSettle) // the buckets that end by then are rolled for good
	r.hour = later(r.hour, store.Truncate(store.Hour, final))
	days := store.Truncate(store.Day, final)
	if !r.day.Before(days) {
		return nil
	}
	if err := st.RollUp(ctx, store.Day, r.day, days); err != nil {
		return err
	}
	r.day = days
	return nil
}

// resume finds where the roll-ups stand after a start: a bucket before the
// latest hour rolled by the last pass may have been rolled before it was
// final, and the latest day may be a day still going (older versions
// rolled those). Not further back than the results and hourly roll-ups
// are kept: a bucket partly pruned would be rolled short.
func (e *Engine) resume(ctx context.Context, now time.Time) error {
	st := e.o.Store
	hour, err := st.LastRollup(ctx, store.Hour)
	if err != nil {
		return err
	}
	day, err := st.LastRollup(ctx, store.Day)
	if err != nil {
		return err
	}
	hour = later(store.Truncate(store.Hour, hour.Add(-rollSettle)), store.Truncate(store.Hour, now.Add(-e.o.RawRetention)).Add(time.Hour))
	if day.IsZero() {
		day = hour
	}
	day = later(store.Truncate(store.Day, day), store.Truncate(store.Day, now.Add(-report.HourlyRetention)).AddDate(0, 0, 1))
	e.rolled.hour, e.rolled.day = hour, day
	return nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
