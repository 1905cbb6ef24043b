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
// change, at least: a test's result is stored at its start time, up to
// its longest duration later (max_duration, under up_every: minutes;
// settle takes the loaded monitors' longest if longer). A bucket is rolled
// once, by the first pass this long after its end; until then reports,
// charts and status pages read its raw results (report.rollEnd: a bucket's
// roll-up is read from an hour after its end).
const rollSettle = time.Hour

// rolled is where the janitor's roll-ups stand: the first hour and the
// first day not rolled yet (zero: not known yet, found in the store at
// the first pass, so that a node that was down rolls what it missed when
// it starts), and the hour of the last prune.
type rolled struct {
	mu        sync.Mutex
	hour, day time.Time
	pruned    time.Time
}

// Tidy rolls up and prunes once: the hours and days that became final
// since the last pass (settle), and, once an hour, what is past its
// retention.
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

// rollUp rolls the hours and days that ended settle ago or more and
// were not rolled yet.
func (e *Engine) rollUp(ctx context.Context, now time.Time) error {
	st := e.o.Store
	r := &e.rolled
	settle := e.settle()
	if r.hour.IsZero() {
		if err := e.resume(ctx, now, settle); err != nil {
			return err
		}
	}
	final := now.Add(-settle) // the buckets that end by then are final
	for _, p := range []struct {
		period string
		next   *time.Time
	}{{store.Hour, &r.hour}, {store.Day, &r.day}} {
		end := store.Truncate(p.period, final)
		if !p.next.Before(end) {
			continue
		}
		if err := st.RollUp(ctx, p.period, *p.next, end); err != nil {
			return err
		}
		*p.next = end
	}
	return nil
}

// settle is how long after its end a bucket can still change: rollSettle,
// or the longest max_duration of the loaded monitors and a minute.
func (e *Engine) settle() time.Duration {
	d := rollSettle
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, en := range e.monitors {
		d = max(d, en.spec.Timing.MaxDuration.D()+time.Minute)
	}
	return d
}

// resume finds where the roll-ups stand after a start: the latest hour
// and day rolled may have been rolled before they were final (by older
// versions, which rolled the current ones), so they are rolled again with
// the hour before. Not further back than the results and hourly roll-ups
// are kept: a bucket partly pruned would be rolled short.
func (e *Engine) resume(ctx context.Context, now time.Time, settle time.Duration) error {
	st := e.o.Store
	hour, err := st.LastRollup(ctx, store.Hour)
	if err != nil {
		return err
	}
	day, err := st.LastRollup(ctx, store.Day)
	if err != nil {
		return err
	}
	hour = later(store.Truncate(store.Hour, hour.Add(-settle)), store.Truncate(store.Hour, now.Add(-e.o.RawRetention)).Add(time.Hour))
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
