package report

import (
	"context"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// Daily is each monitor's tests and failed tests on each of the last n
// days (UTC), oldest first, today last: the day roll-ups before today, the
// raw results of the days after the last of them (today's roll-up is still
// being written, and a new install has none), so that no day shows
// results it has not had or hides those it had.
func Daily(ctx context.Context, st store.Store, ids []int64, now time.Time, n int) (map[int64][]store.Counts, error) {
	const day = 24 * time.Hour
	today := store.Truncate(store.Day, now)
	first := today.AddDate(0, 0, -(n - 1))
	out := make(map[int64][]store.Counts, len(ids))
	rawFrom := map[int64]int{} // the first day read from raw results
	for _, id := range ids {
		row := make([]store.Counts, n)
		rs, err := st.Rollups(ctx, id, store.Day, first, today)
		if err != nil {
			return nil, err
		}
		next := 0
		for _, r := range rs {
			if i := int(r.Start.Sub(first) / day); i >= 0 && i < n-1 {
				row[i] = store.Counts{Tests: r.Tests, Down: r.Down, Last: r.Start}
				next = i + 1
			}
		}
		out[id], rawFrom[id] = row, next
	}
	for i := 0; i < n; i++ {
		var group []int64
		for _, id := range ids {
			if rawFrom[id] <= i {
				group = append(group, id)
			}
		}
		if len(group) == 0 {
			continue
		}
		from := first.AddDate(0, 0, i)
		cs, err := st.RawCounts(ctx, group, from, from.Add(day))
		if err != nil {
			return nil, err
		}
		for _, id := range group {
			out[id][i] = cs[id]
		}
	}
	return out, nil
}
