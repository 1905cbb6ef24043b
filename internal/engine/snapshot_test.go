package engine

import (
	"slices"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// TestSnapshotKeepsWhatMetricsRead: the engine keeps of each monitor's
// last test what /metrics shows (status, times, certificates' expiry), not
// its transcript, details or error: the store has those.
func TestSnapshotKeepsWhatMetricsRead(t *testing.T) {
	e := New(Options{})
	e.monitors[7] = &entry{m: store.Monitor{ID: 7, Name: "m", Type: "smtp", Enabled: true}}
	expiry := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	leg := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	res := &probe.Result{Type: "smtp", Status: probe.StatusDown, Started: time.Unix(1000, 0), RTT: 3 * time.Millisecond,
		Delivery: 2 * time.Second, Phases: []probe.Phase{{Name: "connect", Duration: time.Millisecond}},
		Error:      &probe.Error{Code: "E", Message: "no"},
		TLS:        &probe.TLSInfo{Version: "TLS1.3", CertNotAfter: expiry, CertNames: []string{"a", "b"}},
		Details:    map[string]any{probe.LegSMTP: map[string]any{"tls": &probe.TLSInfo{CertNotAfter: leg, CertSubject: "x"}}, "other": "y"},
		Transcript: []string{"S: 220 hello", "C: EHLO x"}}
	e.count(7, res)
	snap := e.Snapshot()
	if len(snap) != 1 || snap[0].Last == nil {
		t.Fatalf("snapshot: %+v", snap)
	}
	got := snap[0].Last
	if got.Transcript != nil || got.Error != nil || got.Details["other"] != nil {
		t.Errorf("kept more than /metrics reads: %+v", got)
	}
	if got.Status != res.Status || got.RTT != res.RTT || got.Delivery != res.Delivery || len(got.Phases) != 1 ||
		got.TLS == nil || !got.TLS.CertNotAfter.Equal(expiry) || got.LegTLS(probe.LegSMTP) == nil ||
		!got.LegTLS(probe.LegSMTP).CertNotAfter.Equal(leg) {
		t.Errorf("lost what /metrics reads: %+v", got)
	}
	if snap[0].Tests[TestKey{Result: probe.StatusDown, Code: "E"}] != 1 {
		t.Errorf("tests: %v", snap[0].Tests)
	}
}

// TestSnapshotChanged: a monitor's version changes when its test counts,
// last result, state or settings do, and SnapshotChanged copies only the
// monitors whose version the caller does not have.
func TestSnapshotChanged(t *testing.T) {
	e := New(Options{})
	e.monitors[1] = &entry{m: store.Monitor{ID: 1, Name: "a", Type: "smtp", Enabled: true}}
	e.monitors[2] = &entry{m: store.Monitor{ID: 2, Name: "b", Type: "tcp", Enabled: true}}
	known := map[int64]Version{}
	changed := func() []int64 {
		t.Helper()
		vs, snaps := e.SnapshotChanged(nil, nil, func(id int64, v Version) bool { return known[id] == v })
		if len(vs) != len(e.monitors) {
			t.Fatalf("%d versions for %d monitors", len(vs), len(e.monitors))
		}
		var ids []int64
		for _, s := range snaps {
			ids = append(ids, s.ID)
			known[s.ID] = s.Version
		}
		slices.Sort(ids)
		return ids
	}
	step := func(what string, want ...int64) {
		t.Helper()
		if got := changed(); !slices.Equal(got, want) {
			t.Errorf("%s: snapshots of %v, want %v", what, got, want)
		}
	}
	step("first", 1, 2)
	step("nothing changed")
	e.count(1, &probe.Result{Status: probe.StatusUp})
	step("tested", 1)
	e.status[2] = state.Status{State: state.Down}
	step("state", 2)
	e.monitors[2] = &entry{m: store.Monitor{ID: 2, Name: "renamed", Type: "tcp", Enabled: true}}
	step("reloaded", 2)
	delete(e.monitors, 1)
	step("deleted")
}
