package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// board: the status board's queries: monitors worst first (and by
// device), counts by the state shown, the last results, test counts from
// roll-ups and raw results.
func board(t *testing.T, s store.Store) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	devs := map[string]int64{}
	for _, name := range []string{"b-dev", "a-dev"} {
		d := &store.Device{Name: name, Address: "h"}
		must(t, s.PutDevice(ctx, d))
		devs[name] = d.ID
	}
	ids := map[string]int64{}
	add := func(dev, name string, enabled bool, st state.State, results ...probe.Status) {
		m := &store.Monitor{DeviceID: devs[dev], Name: name, Type: "smtp", Enabled: enabled}
		must(t, s.PutMonitor(ctx, m))
		ids[name] = m.ID
		for i, r := range results {
			at := now.Add(-time.Duration(len(results)-i) * time.Minute)
			must(t, s.RecordTest(ctx, store.Test{Result: store.Result{MonitorID: m.ID, Time: at, Status: r, RTT: time.Duration(i+1) * time.Millisecond},
				Status: store.Status{MonitorID: m.ID, Status: state.Status{State: st}, LastTest: at}}))
		}
	}
	add("b-dev", "up-1", true, state.Up, probe.StatusUp, probe.StatusUp)
	add("b-dev", "down-1", true, state.Down, probe.StatusUp, probe.StatusDown, probe.StatusDown)
	add("b-dev", "new", true, "")
	add("a-dev", "warn-1", true, state.Warn, probe.StatusUp, probe.StatusDown)
	add("a-dev", "lost-1", true, state.Lost, probe.StatusDown)
	add("a-dev", "off", false, state.Up, probe.StatusUp)
	add("a-dev", "down-0", true, state.Down, probe.StatusDown)

	names := func(o store.Order) []string {
		ms, total, err := s.Monitors(ctx, store.MonitorFilter{Order: o})
		must(t, err)
		if total != 7 {
			t.Errorf("order %d: total %d", o, total)
		}
		var out []string
		for _, m := range ms {
			out = append(out, m.Name)
		}
		return out
	}
	if got, want := names(store.WorstFirst), []string{"down-0", "down-1", "lost-1", "warn-1", "up-1", "new", "off"}; !reflect.DeepEqual(got, want) {
		t.Errorf("worst first: %v, want %v", got, want)
	}
	if got, want := names(store.DeviceWorstFirst), []string{"down-0", "lost-1", "warn-1", "off", "down-1", "up-1", "new"}; !reflect.DeepEqual(got, want) {
		t.Errorf("by device, worst first: %v, want %v", got, want)
	}
	// A page of the order, with a filter.
	ms, total, err := s.Monitors(ctx, store.MonitorFilter{Order: store.WorstFirst, Search: "-1", Page: store.Page{Limit: 2, Offset: 1}})
	must(t, err)
	if total != 4 || len(ms) != 2 || ms[0].Name != "lost-1" || ms[1].Name != "warn-1" {
		t.Errorf("a page worst first: %d %+v", total, ms)
	}

	counts, err := s.StateCounts(ctx, store.MonitorFilter{})
	must(t, err)
	want := map[state.State]int{state.Up: 1, state.Down: 2, state.Warn: 1, state.Lost: 1, state.Pending: 1, state.Disabled: 1}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("state counts %v, want %v", counts, want)
	}
	counts, err = s.StateCounts(ctx, store.MonitorFilter{DeviceID: devs["b-dev"], State: state.Up})
	must(t, err)
	if want := (map[state.State]int{state.Up: 1, state.Down: 1, state.Pending: 1}); !reflect.DeepEqual(counts, want) {
		t.Errorf("state counts of b-dev %v, want %v (the state filter aside)", counts, want)
	}

	recent, err := s.RecentResults(ctx, []int64{ids["down-1"], ids["up-1"], ids["new"]}, 2)
	must(t, err)
	rs := recent[ids["down-1"]]
	if len(recent[ids["up-1"]]) != 2 || len(recent[ids["new"]]) != 0 {
		t.Errorf("recent results of each: %+v", recent)
	}
	if len(rs) != 2 || rs[0].Status != probe.StatusDown || rs[0].RTT != 3*time.Millisecond || !rs[0].Time.After(rs[1].Time) {
		t.Errorf("recent results, newest first: %+v", rs)
	}

	all := []int64{ids["up-1"], ids["down-1"], ids["new"]}
	sts, err := s.Statuses(ctx, all)
	must(t, err)
	if len(sts) != 2 || sts[ids["down-1"]].Status.State != state.Down || sts[ids["up-1"]].LastResult != nil || sts[ids["down-1"]].Version != 3 {
		t.Errorf("statuses %+v", sts)
	}
	raw, err := s.RawCounts(ctx, all, now.Add(-time.Hour), now)
	must(t, err)
	if want := (map[int64]store.Counts{ids["up-1"]: {Tests: 2}, ids["down-1"]: {Tests: 3, Down: 2}}); !reflect.DeepEqual(raw, want) {
		t.Errorf("raw counts %v, want %v", raw, want)
	}
	must(t, s.RollUp(ctx, store.Hour, now.Add(-2*time.Hour), now.Add(time.Hour)))
	h := store.Truncate(store.Hour, now.Add(-time.Hour))
	windows, err := s.RollupCounts(ctx, all, store.RollupWindow{Period: store.Hour, From: h, To: now.Add(time.Hour)},
		store.RollupWindow{Period: store.Day, From: h, To: now.Add(time.Hour)}, store.RollupWindow{Period: store.Hour, From: now.Add(2 * time.Hour), To: now.Add(3 * time.Hour)})
	must(t, err)
	rolled := windows[0]
	if len(windows) != 3 || len(windows[2]) != 0 {
		t.Errorf("roll-up counts of a window without any: %v", windows)
	}
	for id, n := range raw {
		if r := rolled[id]; r.Tests != n.Tests || r.Down != n.Down || !r.Last.Equal(store.Truncate(store.Hour, now)) && !r.Last.Equal(h) {
			t.Errorf("roll-up counts of %d: %+v, want %+v, the last roll-up's start", id, r, n)
		}
	}
	if len(rolled) != len(raw) {
		t.Errorf("roll-up counts %v, want %v", rolled, raw)
	}
	r, err := s.RawRollup(ctx, ids["down-1"], now.Add(-time.Hour), now)
	must(t, err)
	if r.Tests != 3 || r.Down != 2 || r.Up != 1 || r.RTTAvg != time.Millisecond {
		t.Errorf("raw roll-up %+v", r)
	}
}
