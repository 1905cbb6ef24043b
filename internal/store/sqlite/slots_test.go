package sqlite

import (
	"slices"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/schedule"
	"github.com/mailmon/mailmon/internal/state"
)

// TestStatusesInTestOrder: the statuses are stored in the order their
// monitors are tested (due within the minute, schedule.Spread), whatever
// the order they were created in; the table read in rowid order is that
// order, so that one group commit's statuses are neighbours. A monitor
// whose interval changes moves to its new place.
func TestStatusesInTestOrder(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t)
	ids := monitors(t, s, 200)
	every := func(id int64) time.Duration { return time.Duration(1+id%3) * time.Minute }
	record := func(id int64, st state.State) {
		t.Helper()
		tt := upTest(id)
		tt.Status.Status.State, tt.Interval = st, every(id)
		if err := s.RecordTest(ctx, tt); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		record(id, state.Up)
	}
	minute := time.Unix(1_700_000_040, 0) // the top of a minute
	check := func(what string) {
		t.Helper()
		want := slices.Clone(ids)
		due := func(id int64) time.Duration {
			return (schedule.Spread(id, every(id), minute).Sub(minute) % time.Minute).Truncate(time.Millisecond)
		}
		slices.SortStableFunc(want, func(a, b int64) int {
			if c := due(a) - due(b); c != 0 {
				return int(c / time.Millisecond)
			}
			return int(a - b) // the same millisecond: by id
		})
		rows, err := s.rdb.QueryContext(ctx, `SELECT monitor_id FROM monitor_status ORDER BY rowid`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			got = append(got, id)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: statuses in rowid order\n%v\nwant in test order\n%v", what, got, want)
		}
	}
	check("created in id order")
	// A third of the monitors tested at another interval now.
	old := every
	every = func(id int64) time.Duration {
		if id%3 == 0 {
			return 5 * time.Minute
		}
		return old(id)
	}
	for _, id := range ids {
		record(id, state.Up)
	}
	check("intervals changed")
	if n, err := s.StatusSlots(ctx); err != nil || len(n) != len(ids) {
		t.Errorf("%d statuses, %v; want %d", len(n), err, len(ids))
	}
}
