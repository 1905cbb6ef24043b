package report

import (
	"context"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// rawReads counts the raw roll-ups a store is asked for.
type rawReads struct {
	store.Store
	n int
}

func (r *rawReads) RawRollup(ctx context.Context, id int64, from, to time.Time) (store.Rollup, error) {
	r.n++
	return r.Store.RawRollup(ctx, id, from, to)
}

// TestPeriods: the hours rolled up come from their roll-ups, the hours
// after the last of them (the current one, not rolled up yet) from the
// raw results, each with its own figures; a year without roll-ups reads
// the raw results of the hours that have some, not of every day.
func TestPeriods(t *testing.T) {
	ctx, st, d := testStore(t)
	m := &store.Monitor{DeviceID: d.ID, Name: "smtp", Type: "smtp", Enabled: true}
	must(t, st.PutMonitor(ctx, m))
	now := time.Date(2026, 12, 6, 10, 30, 0, 0, time.UTC)
	test := func(at time.Time, s probe.Status, rtt time.Duration) {
		must(t, st.RecordTest(ctx, store.Test{Result: store.Result{MonitorID: m.ID, Time: at, Status: s, RTT: rtt},
			Status: store.Status{MonitorID: m.ID, Status: state.Status{State: state.Up}}}))
	}
	test(now.Add(-3*time.Hour), probe.StatusUp, 10*time.Millisecond) // 07:30
	test(now.Add(-2*time.Hour), probe.StatusUp, 20*time.Millisecond) // 08:30
	must(t, st.RollUp(ctx, store.Hour, now.Add(-4*time.Hour), now.Add(-90*time.Minute)))
	test(now.Add(-20*time.Minute), probe.StatusUp, 30*time.Millisecond) // 10:10, not rolled up
	test(now.Add(-10*time.Minute), probe.StatusDown, 10*time.Second)    // 10:20

	rs, err := Periods(ctx, st, m.ID, store.Hour, now.Add(-24*time.Hour), now, now)
	if err != nil {
		t.Fatal(err)
	}
	type fig struct {
		start       string
		tests, down int
		rtt         time.Duration
	}
	var got []fig
	for _, r := range rs {
		got = append(got, fig{r.Start.UTC().Format("15:04"), r.Tests, r.Down, r.RTTAvg})
	}
	want := []fig{{"07:00", 1, 0, 10 * time.Millisecond}, {"08:00", 1, 0, 20 * time.Millisecond}, {"10:00", 2, 1, 30 * time.Millisecond}}
	if len(got) != len(want) {
		t.Fatalf("periods %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("period %d: %+v, want %+v", i, got[i], want[i])
		}
	}

	// A year by day on a store with no roll-up of days: today's tests,
	// in a handful of reads, not one a day.
	rr := &rawReads{Store: st}
	rs, err = Periods(ctx, rr, m.ID, store.Day, now.AddDate(-1, 0, 0), now, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Tests != 4 || rr.n > 2 {
		t.Errorf("a year by day: %+v in %d raw reads", rs, rr.n)
	}
}
