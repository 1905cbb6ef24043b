package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// rollupsMany: an hour of many monitors is rolled up for each of them (the
// roll-ups are written several to a statement), and a day's averages are
// integer divisions of its hours' sums, as the hours' are.
func rollupsMany(t *testing.T, s store.Store) {
	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	day := store.Truncate(store.Day, time.Now().Add(-72*time.Hour))
	const n = 150
	ms := make([]*store.Monitor, n)
	for i := range ms {
		ms[i] = newMonitor(t, s, d.ID, fmt.Sprint("m", i), "smtp")
		// One test in hour 0 with rtt 1000+i µs, one in hour 1 with 1001+i µs.
		for h := range 2 {
			at := day.Add(time.Duration(h)*time.Hour + time.Minute)
			must(t, s.RecordTest(ctx, store.Test{
				Result: store.Result{MonitorID: ms[i].ID, Time: at, Status: probe.StatusUp, RTT: time.Duration(1000+i+h) * time.Microsecond},
				Status: store.Status{MonitorID: ms[i].ID, Status: state.Status{State: state.Up}, LastTest: at},
			}))
		}
	}
	must(t, s.RollUp(ctx, store.Hour, day, day.Add(2*time.Hour)))
	must(t, s.RollUp(ctx, store.Day, day, day.Add(24*time.Hour)))
	for i, m := range ms {
		hs, err := s.Rollups(ctx, m.ID, store.Hour, day, day.Add(2*time.Hour))
		if err != nil || len(hs) != 2 || hs[0].Tests != 1 || hs[0].RTTMax != time.Duration(1000+i)*time.Microsecond ||
			hs[1].RTTAvg != time.Duration(1001+i)*time.Microsecond {
			t.Fatalf("monitor %d: hourly %+v %v", i, hs, err)
		}
		ds, err := s.Rollups(ctx, m.ID, store.Day, day, day.Add(24*time.Hour))
		// (1000+i + 1001+i) / 2, the half dropped.
		if err != nil || len(ds) != 1 || ds[0].Tests != 2 || ds[0].RTTAvg != time.Duration(1000+i)*time.Microsecond ||
			ds[0].RTTMin != time.Duration(1000+i)*time.Microsecond || ds[0].RTTMax != time.Duration(1001+i)*time.Microsecond {
			t.Fatalf("monitor %d: daily %+v %v", i, ds, err)
		}
	}
}

// rollupsDeletedMonitor: a deleted monitor's roll-ups go with it (older
// versions kept its daily ones for good, where a new monitor could find
// them under the same id); rolling its bucket again writes none for it
// and keeps the others'.
func rollupsDeletedMonitor(t *testing.T, s store.Store) {
	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	day := store.Truncate(store.Day, time.Now().Add(-72*time.Hour))
	h := day.Add(5 * time.Hour)
	var ms []*store.Monitor
	for i := range 3 {
		m := newMonitor(t, s, d.ID, fmt.Sprint("m", i), "smtp")
		ms = append(ms, m)
		at := h.Add(time.Minute)
		must(t, s.RecordTest(ctx, store.Test{
			Result: store.Result{MonitorID: m.ID, Time: at, Status: probe.StatusUp, RTT: time.Millisecond},
			Status: store.Status{MonitorID: m.ID, Status: state.Status{State: state.Up}, LastTest: at},
		}))
	}
	must(t, s.RollUp(ctx, store.Hour, h, h.Add(time.Hour)))
	must(t, s.RollUp(ctx, store.Day, day, day.Add(24*time.Hour)))
	must(t, s.DeleteMonitor(ctx, ms[1].ID))
	must(t, s.RollUp(ctx, store.Hour, h, h.Add(time.Hour)))
	must(t, s.RollUp(ctx, store.Day, day, day.Add(24*time.Hour)))
	for i, m := range ms {
		want := 1
		if i == 1 {
			want = 0
		}
		for _, p := range []string{store.Hour, store.Day} {
			if rs, err := s.Rollups(ctx, m.ID, p, day, day.Add(24*time.Hour)); err != nil || len(rs) != want || want == 1 && rs[0].Tests != 1 {
				t.Errorf("monitor %d, %s: %+v %v; want %d roll-ups of 1 test", i, p, rs, err, want)
			}
		}
	}
	// A device's monitors' go with it too (older versions left them).
	must(t, s.DeleteDevice(ctx, d.ID))
	for i, m := range ms {
		for _, p := range []string{store.Hour, store.Day} {
			if rs, err := s.Rollups(ctx, m.ID, p, day, day.Add(24*time.Hour)); err != nil || len(rs) != 0 {
				t.Errorf("monitor %d of a deleted device, %s: %+v %v", i, p, rs, err)
			}
		}
		if c, err := s.RawCounts(ctx, []int64{m.ID}, day, day.Add(24*time.Hour)); err != nil || c[m.ID].Tests != 0 {
			t.Errorf("monitor %d of a deleted device: %+v %v", i, c, err)
		}
	}
}

// rollupsLastRollup: LastRollup is the start of the latest roll-up of a
// period, where the janitor takes up after a start.
func rollupsLastRollup(t *testing.T, s store.Store) {
	if last, err := s.LastRollup(ctx, store.Hour); err != nil || !last.IsZero() {
		t.Fatalf("LastRollup without roll-ups: %v %v", last, err)
	}
	d := &store.Device{Name: "d", Address: "d"}
	must(t, s.PutDevice(ctx, d))
	day := store.Truncate(store.Day, time.Now().Add(-72*time.Hour))
	for i, h := range []time.Time{day.Add(5 * time.Hour), day.Add(3 * time.Hour)} {
		m := newMonitor(t, s, d.ID, fmt.Sprint("m", i), "smtp")
		at := h.Add(time.Minute)
		must(t, s.RecordTest(ctx, store.Test{
			Result: store.Result{MonitorID: m.ID, Time: at, Status: probe.StatusUp, RTT: time.Millisecond},
			Status: store.Status{MonitorID: m.ID, Status: state.Status{State: state.Up}, LastTest: at},
		}))
	}
	must(t, s.RollUp(ctx, store.Hour, day, day.Add(24*time.Hour)))
	must(t, s.RollUp(ctx, store.Day, day, day.Add(24*time.Hour)))
	h := day.Add(5 * time.Hour)
	for p, want := range map[string]time.Time{store.Hour: h, store.Day: day} {
		if last, err := s.LastRollup(ctx, p); err != nil || !last.Equal(want) {
			t.Errorf("LastRollup(%s) = %v %v; want %v", p, last, err, want)
		}
	}
}
