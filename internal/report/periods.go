package report

import (
	"context"
	"sort"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// rolled is a monitor's roll-ups of period over [from, to) that a report
// reads (those up to rollEnd: the last hour's, or today's, are still
// being written, and a new install has none), and where its raw results
// take over: after the last of them.
func rolled(ctx context.Context, st store.Store, id int64, period string, from, to, now time.Time) ([]store.Rollup, time.Time, error) {
	end := rollEnd(period, now)
	if to.Before(end) {
		end = to
	}
	start := store.Truncate(period, from)
	rs, err := st.Rollups(ctx, id, period, start, end)
	if err != nil {
		return nil, time.Time{}, err
	}
	var last store.Counts
	if len(rs) > 0 {
		last.Last = rs[len(rs)-1].Start
	}
	step, _ := store.PeriodLength(period)
	return rs, rawFrom(last, step, start, end), nil
}

// Periods is a monitor's figures per period (an hour or a day) over
// [from, to), oldest first, periods without tests left out: the
// roll-ups, then, for the periods after the last of them, its raw results
// rolled up as they are read — as Daily does for days — so that a chart
// beside a report's table never draws as "no data" a period whose tests
// the table counts.
func Periods(ctx context.Context, st store.Store, id int64, period string, from, to, now time.Time) ([]store.Rollup, error) {
	rs, raw, err := rolled(ctx, st, id, period, from, to, now)
	if err != nil {
		return nil, err
	}
	step, _ := store.PeriodLength(period)
	// Raw results are kept for days only: over a long period without
	// roll-ups (a new install's year), the periods before the first of
	// them are skipped by halving, not read one by one.
	n := int((to.Sub(raw) + step - 1) / step)
	var serr error
	first := sort.Search(n, func(i int) bool {
		c, err := st.RawCounts(ctx, []int64{id}, raw, raw.Add(time.Duration(i+1)*step))
		if err != nil {
			serr = err
			return true
		}
		return c[id].Tests > 0
	})
	if serr != nil {
		return nil, serr
	}
	for t := raw.Add(time.Duration(first) * step); t.Before(to); t = t.Add(step) {
		x, err := st.RawRollup(ctx, id, t, t.Add(step))
		if err != nil {
			return nil, err
		}
		if x.Tests > 0 {
			rs = append(rs, x)
		}
	}
	return rs, nil
}
