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

// rawFrom is where a monitor's raw results take over from its roll-ups
// of step that start in [from, end): after the last there is, else from.
func rawFrom(c store.Counts, step time.Duration, from, end time.Time) time.Time {
	if c.Last.IsZero() {
		return from
	}
	if next := c.Last.Add(step); next.Before(end) {
		return next
	}
	return end
}

// Uptimes are the monitors' tests and failed tests over the last 24 hours
// (from the start of that hour) and the last 30 days (from the start of
// that day): the roll-ups up to an hour ago, the raw results after them,
// so that a new monitor, or a database not rolled up yet, has its figures
// from its first test.
func Uptimes(ctx context.Context, st store.Store, ids []int64, now time.Time) (day, month map[int64]store.Counts, err error) {
	day, over, err := UptimesOver(ctx, st, ids, now, 30)
	if err != nil {
		return nil, nil, err
	}
	return day, over[0], nil
}

// UptimesOver is Uptimes over the last 24 hours and over each of the last
// days (30, 7: from the start of that day), in that order.
func UptimesOver(ctx context.Context, st store.Store, ids []int64, now time.Time, days ...int) (day map[int64]store.Counts, over []map[int64]store.Counts, err error) {
	end := rollEnd(store.Hour, now)
	today := store.Truncate(store.Day, end)
	d0 := store.Truncate(store.Hour, now.Add(-24*time.Hour))
	hours, err := st.RollupCounts(ctx, ids, store.Hour, d0, end)
	if err != nil {
		return nil, nil, err
	}
	todays, err := st.RollupCounts(ctx, ids, store.Hour, today, end)
	if err != nil {
		return nil, nil, err
	}
	daily := make([]map[int64]store.Counts, len(days))
	for i, n := range days {
		m0 := store.Truncate(store.Day, now.Add(-time.Duration(n)*24*time.Hour))
		if daily[i], err = st.RollupCounts(ctx, ids, store.Day, m0, today); err != nil {
			return nil, nil, err
		}
	}
	// The raw results from where each monitor's roll-ups end: one query
	// for the monitors that end at the same time (usually all).
	rawDay := map[int64]time.Time{}
	rawDays := make([]map[int64]time.Time, len(days))
	byStart := map[time.Time][]int64{}
	from := func(id int64, t time.Time) {
		if g := byStart[t]; len(g) == 0 || g[len(g)-1] != id {
			byStart[t] = append(g, id)
		}
	}
	for _, id := range ids {
		rawDay[id] = rawFrom(hours[id], time.Hour, d0, end)
		from(id, rawDay[id])
		for i, n := range days {
			if rawDays[i] == nil {
				rawDays[i] = map[int64]time.Time{}
			}
			m0 := store.Truncate(store.Day, now.Add(-time.Duration(n)*24*time.Hour))
			if todays[id].Last.IsZero() {
				rawDays[i][id] = rawFrom(daily[i][id], 24*time.Hour, m0, today)
			} else {
				rawDays[i][id] = rawFrom(todays[id], time.Hour, today, end)
			}
			from(id, rawDays[i][id])
		}
	}
	raw := map[time.Time]map[int64]store.Counts{}
	for t, group := range byStart {
		if raw[t], err = st.RawCounts(ctx, group, t, now.Add(time.Minute)); err != nil {
			return nil, nil, err
		}
	}
	day = map[int64]store.Counts{}
	over = make([]map[int64]store.Counts, len(days))
	for i := range days {
		over[i] = map[int64]store.Counts{}
	}
	for _, id := range ids {
		day[id] = add(raw[rawDay[id]][id], hours[id])
		for i := range days {
			over[i][id] = add(add(raw[rawDays[i][id]][id], todays[id]), daily[i][id])
		}
	}
	return day, over, nil
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
