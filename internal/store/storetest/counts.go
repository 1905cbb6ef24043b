package storetest

import (
	"reflect"
	"testing"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// boardCounts: the counts of all monitors (kept as monitors come, change
// state, are switched off and go, with their device too) are those of a
// count of them (a filter that selects them all: every monitor here is
// smtp), and so is the total of a page.
func boardCounts(t *testing.T, s store.Store) {
	check := func(step string) {
		t.Helper()
		kept, err := s.StateCounts(ctx, store.MonitorFilter{})
		must(t, err)
		counted, err := s.StateCounts(ctx, store.MonitorFilter{Type: "smtp"})
		must(t, err)
		if !reflect.DeepEqual(kept, counted) {
			t.Errorf("%s: counts kept %v, counted %v", step, kept, counted)
		}
		for _, st := range append([]state.State{""}, store.WorstFirstStates...) {
			_, all, err := s.Monitors(ctx, store.MonitorFilter{State: st})
			must(t, err)
			_, smtp, err := s.Monitors(ctx, store.MonitorFilter{State: st, Type: "smtp"})
			must(t, err)
			if all != smtp {
				t.Errorf("%s: total of state %q %d, counted %d", step, st, all, smtp)
			}
		}
	}
	var ms []*store.Monitor
	for _, dev := range []string{"a", "b"} {
		d := &store.Device{Name: dev, Address: "h"}
		must(t, s.PutDevice(ctx, d))
		for _, name := range []string{"1", "2", "3"} {
			m := &store.Monitor{DeviceID: d.ID, Name: name, Type: "smtp", Enabled: true}
			must(t, s.PutMonitor(ctx, m))
			ms = append(ms, m)
		}
	}
	check("new monitors")
	record := func(m *store.Monitor, st state.State) {
		must(t, s.RecordTest(ctx, store.Test{Result: store.Result{MonitorID: m.ID, Status: probe.StatusUp},
			Status: store.Status{MonitorID: m.ID, Status: state.Status{State: st}}}))
	}
	for i, st := range []state.State{state.Up, state.Down, state.Down, state.Warn, state.Lost, state.Up} {
		record(ms[i], st)
	}
	check("tested")
	record(ms[1], state.Up)
	record(ms[0], state.Down)
	record(ms[0], state.Down)
	check("state changes")
	ms[2].Enabled = false
	must(t, s.PutMonitor(ctx, ms[2]))
	check("switched off")
	ms[2].Enabled = true
	must(t, s.PutMonitor(ctx, ms[2]))
	check("switched on")
	must(t, s.DeleteMonitor(ctx, ms[4].ID))
	check("a monitor deleted")
	must(t, s.DeleteDevice(ctx, ms[0].DeviceID))
	check("a device deleted")
	if n, err := s.StateCounts(ctx, store.MonitorFilter{}); err != nil || n[state.Warn] != 1 || n[state.Up] != 1 || len(n) != 2 {
		t.Errorf("the counts left: %v, %v", n, err)
	}
}

// boardRank: a monitor's place on the board (its shown state, the
// filter by state and the counts) follows its stored state through
// tests that keep it (which write no rank), tests that change it, a
// first test, a versioned test (a cluster's) and a test stored while
// the monitor is off.
func boardRank(t *testing.T, s store.Store) {
	d := &store.Device{Name: "d", Address: "h"}
	must(t, s.PutDevice(ctx, d))
	var ms []*store.Monitor
	for _, name := range []string{"a", "b"} {
		m := &store.Monitor{DeviceID: d.ID, Name: name, Type: "smtp", Enabled: true}
		must(t, s.PutMonitor(ctx, m))
		ms = append(ms, m)
	}
	a, b := ms[0], ms[1]
	shown := func(step string, want map[string]state.State) {
		t.Helper()
		counts := map[state.State]int{}
		for name, st := range want {
			counts[st]++
			list, _, err := s.Monitors(ctx, store.MonitorFilter{State: st})
			must(t, err)
			found := false
			for _, m := range list {
				found = found || m.Name == name
			}
			if !found {
				t.Errorf("%s: %s is not among the monitors shown %s (%d of them)", step, name, st, len(list))
			}
		}
		got, err := s.StateCounts(ctx, store.MonitorFilter{})
		must(t, err)
		if !reflect.DeepEqual(got, counts) {
			t.Errorf("%s: counts %v, want %v", step, got, counts)
		}
	}
	version := map[int64]int64{}
	record := func(m *store.Monitor, st state.State, checked bool) {
		t.Helper()
		must(t, s.RecordTest(ctx, store.Test{CheckVersion: checked,
			Result: store.Result{MonitorID: m.ID, Status: probe.StatusUp},
			Status: store.Status{MonitorID: m.ID, Status: state.Status{State: st}, Version: version[m.ID]}}))
		version[m.ID]++
	}
	shown("new", map[string]state.State{"a": state.Pending, "b": state.Pending})
	for _, step := range []struct {
		name string
		a, b state.State
	}{{"first tests", state.Up, state.Up}, {"the same state", state.Up, state.Up},
		{"changed", state.Down, state.Warn}, {"kept", state.Down, state.Warn}} {
		record(a, step.a, false)
		record(b, step.b, true)
		shown(step.name, map[string]state.State{"a": step.a, "b": step.b})
	}
	a.Enabled = false
	must(t, s.PutMonitor(ctx, a))
	for _, st := range []state.State{state.Down, state.Up, state.Up} {
		record(a, st, false)
	}
	shown("tested while off", map[string]state.State{"a": state.Disabled, "b": state.Warn})
	a.Enabled = true
	must(t, s.PutMonitor(ctx, a))
	shown("on again", map[string]state.State{"a": state.Up, "b": state.Warn})
}
