package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
)

// TestReportBeforeTheRollUp: on a new install the roll-ups are not
// written yet: the report counts the raw results (not 0 tests, let alone
// 0 % or 0 ms), a monitor none of whose tests passed has no response time,
// and one never tested has no availability, in the page's figures and in
// the CSV alike.
func TestReportBeforeTheRollUp(t *testing.T) {
	ctx, st, d := testStore(t)
	now := time.Now().UTC()
	ids := map[string]int64{}
	for _, name := range []string{"a-up", "b-down", "c-new"} {
		m := &store.Monitor{DeviceID: d.ID, Name: name, Type: "smtp", Enabled: true}
		must(t, st.PutMonitor(ctx, m))
		ids[name] = m.ID
	}
	// Four tests each in the last few minutes (and, for a-up, a stale
	// roll-up of an older hour that holds only one test: the raw results
	// are read past it).
	for i := range 4 {
		at := now.Add(-time.Duration(4-i) * time.Minute)
		must(t, st.RecordTest(ctx, store.Test{Result: store.Result{MonitorID: ids["a-up"], Time: at, Status: probe.StatusUp, RTT: 20 * time.Millisecond},
			Status: store.Status{MonitorID: ids["a-up"], Status: state.Status{State: state.Up}}}))
		must(t, st.RecordTest(ctx, store.Test{Result: store.Result{MonitorID: ids["b-down"], Time: at, Status: probe.StatusDown, RTT: 10 * time.Second, Code: "timeout"},
			Status: store.Status{MonitorID: ids["b-down"], Status: state.Status{State: state.Down}}}))
	}
	rep, err := Make(ctx, st, 0, now.Add(-time.Hour), now, now)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Row{}
	for _, r := range rep.Monitors {
		byName[r.Monitor] = r
	}
	if r := byName["a-up"]; r.Tests != 4 || r.Availability != 100 || r.RTTAvg != 20*time.Millisecond || !r.HasRTT() {
		t.Errorf("a-up, never rolled up: %+v", r)
	}
	if r := byName["b-down"]; r.Tests != 4 || r.Availability != 0 || r.HasRTT() {
		t.Errorf("b-down: %+v, want 4 tests, 0 %%, no rtt", r)
	}
	if r := byName["c-new"]; r.Tests != 0 || r.HasRTT() {
		t.Errorf("c-new: %+v", r)
	}
	var b bytes.Buffer
	must(t, rep.CSV(&b))
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	cells := map[string][]string{}
	for _, rec := range recs[1:] {
		cells[rec[1]] = rec
	}
	// tests(4) availability(8) rtt_min..max(11-14)
	if c := cells["a-up"]; c[4] != "4" || c[8] != "100.000" || c[12] != "20.000" {
		t.Errorf("a-up in the CSV: %q", c)
	}
	if c := cells["b-down"]; c[4] != "4" || c[8] != "0.000" || c[11] != "" || c[12] != "" || c[14] != "" {
		t.Errorf("b-down in the CSV: %q (want no rtt)", c)
	}
	if c := cells["c-new"]; c[4] != "0" || c[8] != "" || c[12] != "" {
		t.Errorf("c-new in the CSV: %q (want no availability, no rtt)", c)
	}

	// Rolled up now, the figures stay the same (the roll-up of this hour
	// is not read: the raw results are).
	must(t, st.RollUp(ctx, store.Hour, now.Add(-2*time.Hour), now.Add(time.Hour)))
	again, err := Make(ctx, st, 0, now.Add(-time.Hour), now, now)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range again.Monitors {
		if r.Tests != rep.Monitors[i].Tests || r.Availability != rep.Monitors[i].Availability {
			t.Errorf("after the roll-up %s: %+v, before %+v", r.Monitor, r, rep.Monitors[i])
		}
	}
}

// TestReportOlderRollupsAndRawTail: hours rolled up long ago come from the
// roll-ups, the last ones from the raw results, each test counted once.
func TestReportOlderRollupsAndRawTail(t *testing.T) {
	ctx, st, d := testStore(t)
	now := time.Now().UTC()
	m := &store.Monitor{DeviceID: d.ID, Name: "m", Type: "smtp", Enabled: true}
	must(t, st.PutMonitor(ctx, m))
	from := store.Truncate(store.Hour, now.Add(-6*time.Hour))
	n := 0
	for at := from; at.Before(now); at = at.Add(10 * time.Minute) {
		must(t, st.RecordTest(ctx, store.Test{Result: store.Result{MonitorID: m.ID, Time: at, Status: probe.StatusUp, RTT: time.Millisecond},
			Status: store.Status{MonitorID: m.ID, Status: state.Status{State: state.Up}}}))
		n++
	}
	must(t, st.RollUp(ctx, store.Hour, from, now.Add(time.Hour)))
	// The raw results of the older hours are pruned: only their roll-ups
	// tell them.
	if _, err := st.Prune(ctx, store.Truncate(store.Hour, now.Add(-2*time.Hour))); err != nil {
		t.Fatal(err)
	}
	rep, err := Make(ctx, st, 0, from, now, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Monitors[0].Tests; got != n {
		t.Errorf("%d tests, want %d", got, n)
	}
}

// testStore is an empty store with a device.
func testStore(t *testing.T) (context.Context, store.Store, *store.Device) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d := &store.Device{Name: "mail1", Address: "h"}
	must(t, st.PutDevice(ctx, d))
	return ctx, st, d
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
