package report

import (
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// TestDailyAndUptimesOver: each day's tests come from its day roll-up
// when there is one, and from the raw results after the last (today, and
// days not rolled up yet), never both; 7 and 30 days count the same tests
// as the days do.
func TestDailyAndUptimesOver(t *testing.T) {
	ctx, st, d := testStore(t)
	now := time.Now().UTC()
	today := store.Truncate(store.Day, now)
	m := &store.Monitor{DeviceID: d.ID, Name: "smtp", Type: "smtp", Enabled: true}
	must(t, st.PutMonitor(ctx, m))
	test := func(at time.Time, s probe.Status) {
		must(t, st.RecordTest(ctx, store.Test{Result: store.Result{MonitorID: m.ID, Time: at, Status: s},
			Status: store.Status{MonitorID: m.ID, Status: state.Status{State: state.Up}}}))
	}
	// 10 days ago: 4 tests, 1 failed; rolled up. 3 days ago: 2 tests, both
	// failed, rolled up. Yesterday: 3 passed, not rolled up. Today: 1
	// passed, one failed.
	for i := range 4 {
		s := probe.StatusUp
		if i == 0 {
			s = probe.StatusDown
		}
		test(today.AddDate(0, 0, -10).Add(time.Duration(i+1)*time.Hour), s)
	}
	test(today.AddDate(0, 0, -3).Add(time.Hour), probe.StatusDown)
	test(today.AddDate(0, 0, -3).Add(2*time.Hour), probe.StatusDown)
	must(t, st.RollUp(ctx, store.Day, today.AddDate(0, 0, -30), today.AddDate(0, 0, -1)))
	for i := range 3 {
		test(today.AddDate(0, 0, -1).Add(time.Duration(i+1)*time.Hour), probe.StatusUp)
	}
	test(today, probe.StatusUp) // at midnight, not a moment before
	test(now, probe.StatusDown)

	days, err := Daily(ctx, st, []int64{m.ID}, now, 30)
	if err != nil {
		t.Fatal(err)
	}
	row := days[m.ID]
	want := map[int]store.Counts{19: {Tests: 4, Down: 1}, 26: {Tests: 2, Down: 2}, 28: {Tests: 3}, 29: {Tests: 2, Down: 1}}
	for i, c := range row {
		if w := want[i]; c.Tests != w.Tests || c.Down != w.Down {
			t.Errorf("day %d (%s): %+v, want %+v", i, today.AddDate(0, 0, i-29).Format("2006-01-02"), c, w)
		}
	}
	_, over, err := UptimesOver(ctx, st, []int64{m.ID}, now, 7, 30)
	if err != nil {
		t.Fatal(err)
	}
	if w, m := over[0][m.ID], over[1][m.ID]; w.Tests != 7 || w.Down != 3 || m.Tests != 11 || m.Down != 4 {
		t.Errorf("7 days %+v, want 7 tests, 3 failed; 30 days %+v, want 11, 4", w, m)
	}
}
