package engine

import (
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
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

// TestSnapshotCountsByOutcome: each outcome (result and code) is counted
// on its own, however the outcomes interleave.
func TestSnapshotCountsByOutcome(t *testing.T) {
	e := New(Options{})
	e.monitors[7] = &entry{m: store.Monitor{ID: 7, Name: "m", Type: "smtp", Enabled: true}}
	up := &probe.Result{Status: probe.StatusUp}
	down := func(code probe.Code) *probe.Result {
		return &probe.Result{Status: probe.StatusDown, Error: &probe.Error{Code: code}}
	}
	for _, r := range []*probe.Result{up, down("timeout"), up, down("connect_failed"), down("timeout"), up, {Status: probe.StatusWarn}} {
		e.count(7, r)
	}
	want := map[TestKey]int64{{Result: probe.StatusUp}: 3, {Result: probe.StatusDown, Code: "timeout"}: 2,
		{Result: probe.StatusDown, Code: "connect_failed"}: 1, {Result: probe.StatusWarn}: 1}
	got := e.Snapshot()[0].Tests
	if len(got) != len(want) {
		t.Fatalf("tests: %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("tests %+v: %d, want %d", k, got[k], n)
		}
	}
}
