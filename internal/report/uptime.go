package report

import (
	"context"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// rollEnd is where the roll-ups of period stop being read and the raw
// results start: the roll-ups of the last hour, and of today, are still
// being written (every few minutes), and on a new install there are none
// yet. Raw results are kept for days, so the last hour or day is read
// from them.
func rollEnd(period string, now time.Time) time.Time {
	return store.Truncate(period, now.Add(-time.Hour))
}

// Uptimes are the monitors' tests and failed tests over the last 24 hours
// (from the start of that hour) and the last 30 days (from the start of
// that day): roll-ups up to an hour ago, raw results since, so that a new
// monitor has its figures from its first test.
func Uptimes(ctx context.Context, st store.Store, ids []int64, now time.Time) (day, month map[int64]store.Counts, err error) {
	raw := rollEnd(store.Hour, now)
	days := store.Truncate(store.Day, raw)
	recent, err := st.RawCounts(ctx, ids, raw, now.Add(time.Minute))
	if err != nil {
		return nil, nil, err
	}
	hours, err := st.RollupCounts(ctx, ids, store.Hour, store.Truncate(store.Hour, now.Add(-24*time.Hour)), raw)
	if err != nil {
		return nil, nil, err
	}
	today, err := st.RollupCounts(ctx, ids, store.Hour, days, raw)
	if err != nil {
		return nil, nil, err
	}
	before, err := st.RollupCounts(ctx, ids, store.Day, store.Truncate(store.Day, now.Add(-30*24*time.Hour)), days)
	if err != nil {
		return nil, nil, err
	}
	day, month = map[int64]store.Counts{}, map[int64]store.Counts{}
	for _, id := range ids {
		r := recent[id]
		day[id] = add(r, hours[id])
		month[id] = add(add(r, today[id]), before[id])
	}
	return day, month, nil
}

func add(a, b store.Counts) store.Counts {
	return store.Counts{Tests: a.Tests + b.Tests, Down: a.Down + b.Down}
}

// Percent is the share of tests that did not fail, and false when there
// was none.
func Percent(c store.Counts) (float64, bool) {
	if c.Tests == 0 {
		return 0, false
	}
	return float64(c.Tests-c.Down) * 100 / float64(c.Tests), true
}
