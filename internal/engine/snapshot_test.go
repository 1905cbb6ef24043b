package engine

import (
	"math"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
)

// TestSnapshotKeepsWhatMetricsRead: the engine keeps of each monitor's
// last test what /metrics shows (status, times, certificates' expiry), not
// its transcript, details or error: the store has those.
func TestSnapshotKeepsWhatMetricsRead(t *testing.T) {
	e := New(Options{})
	e.monitors[7] = &entry{m: monitorRef{ID: 7, Name: "m", Type: "smtp", Enabled: true}}
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
	if len(snap) != 1 {
		t.Fatalf("snapshot: %+v", snap)
	}
	got := snap[0].Last
	if got.Status != res.Status || got.RTT != res.RTT || got.Delivery != res.Delivery || len(got.Phases) != 1 ||
		got.CertNotAfter != expiry.Unix() || got.SMTPCertNotAfter != leg.Unix() {
		t.Errorf("lost what /metrics reads: %+v", got)
	}
	if len(snap[0].Tests) != 1 || snap[0].Tests[0] != (TestCount{TestKey{Result: probe.StatusDown, Code: "E"}, 1}) {
		t.Errorf("tests: %v", snap[0].Tests)
	}
}

// TestSnapshotCounts: a monitor's tests are counted by outcome, sorted by
// code then result whatever order they came in, and a snapshot is a copy:
// tests counted after it do not change it.
func TestSnapshotCounts(t *testing.T) {
	e := New(Options{})
	e.monitors[1] = &entry{m: monitorRef{ID: 1, Name: "m", Type: "smtp", Enabled: true}}
	down := func(c probe.Code) *probe.Result {
		return &probe.Result{Status: probe.StatusDown, Error: &probe.Error{Code: c}}
	}
	for _, r := range []*probe.Result{down(probe.Timeout), {Status: probe.StatusWarn}, down(probe.ConnectFailed),
		{Status: probe.StatusUp}, down(probe.Timeout), {Status: probe.StatusUp}, {Status: probe.StatusUp}} {
		e.count(1, r)
	}
	want := []TestCount{{TestKey{probe.StatusUp, ""}, 3}, {TestKey{probe.StatusWarn, ""}, 1},
		{TestKey{probe.StatusDown, probe.ConnectFailed}, 1}, {TestKey{probe.StatusDown, probe.Timeout}, 2}}
	snap := e.Snapshot()
	if !slices.Equal(snap[0].Tests, want) {
		t.Fatalf("tests %v, want %v", snap[0].Tests, want)
	}
	e.count(1, &probe.Result{Status: probe.StatusUp})
	e.count(1, down(probe.CertInvalid))
	if !slices.Equal(snap[0].Tests, want) {
		t.Errorf("a snapshot changed with the tests after it: %v", snap[0].Tests)
	}
	if got := e.Snapshot()[0].Tests; len(got) != 5 || got[0].N != 4 || got[2].Code != probe.CertInvalid {
		t.Errorf("tests after two more: %v", got)
	}
}

// TestSnapshotAllocations: a snapshot allocates the same few objects at
// 10 monitors as at 1,000, one more a chunk of 1,024 (it allocated a map
// a monitor: two objects and
// ~490 B), so that a scrape of 100,000 monitors does not hold the
// engine's lock while allocating 100,000 times.
func TestSnapshotAllocations(t *testing.T) {
	for _, n := range []int{10, 1000} {
		e := New(Options{})
		for i := range n {
			id := int64(i + 1)
			e.monitors[id] = &entry{m: monitorRef{ID: id, Name: "m", Type: "smtp", Enabled: true}}
			e.count(id, &probe.Result{Status: probe.StatusUp})
			e.count(id, &probe.Result{Status: probe.StatusDown, Error: &probe.Error{Code: probe.Timeout}})
		}
		// the IDs, the snapshot, the counts of each chunk; the least of
		// three measures: under the race detector a run now and then
		// allocates one more, outside the snapshot's code (1 run in ~10
		// of this package's snapshot tests, seen only with -race)
		allocs := math.Inf(1)
		for range 3 {
			allocs = min(allocs, testing.AllocsPerRun(5, func() { e.Snapshot() }))
		}
		if most := float64(2 + (n+snapshotChunk-1)/snapshotChunk); allocs > most {
			t.Errorf("a snapshot of %d monitors: %.0f allocations, want at most %.0f", n, allocs, most)
		}
	}
}

// TestCountsHeapPerMonitor: what the engine keeps of a tested monitor for
// /metrics (its counts by outcome and what it shows of the last result)
// stays within a per-monitor budget: 48 B measured with both by value in
// one map (272 B with a *probe.Result kept, 624 B with counts in a map of
// one outcome a monitor: 35 MB more at 100,000 monitors), set with ~30%
// headroom. Not timed: bytes after a GC.
func TestCountsHeapPerMonitor(t *testing.T) {
	const n, budget = 20_000, 64
	e := New(Options{})
	for i := range n { // the maps' own growth is not the monitors'
		e.tested[int64(i)] = tested{}
	}
	res := &probe.Result{Status: probe.StatusUp, RTT: time.Millisecond, Phases: []probe.Phase{{Name: "connect"}, {Name: "greeting"}}}
	before := liveHeap()
	for i := range n {
		e.count(int64(i), res)
		e.count(int64(i), res)
	}
	after := liveHeap()
	runtime.KeepAlive(e)
	per, _, _ := after.per(before, n)
	t.Logf("kept for /metrics: %d B a tested monitor", per)
	if per > budget {
		t.Errorf("the engine keeps %d B a tested monitor for /metrics, over the budget of %d B", per, budget)
	}
}

// TestSnapshotInChunks: Snapshot copies the monitors a chunk at a time,
// releasing the engine's lock between chunks (a test finishing waits for
// one chunk, not the whole copy: ~100 ms at 100,000 monitors); a monitor
// deleted meanwhile is left out, and the snapshot is sorted by ID.
func TestSnapshotInChunks(t *testing.T) {
	e := New(Options{})
	const n = 10
	for id := int64(n); id >= 1; id-- {
		e.monitors[id] = &entry{m: monitorRef{ID: id, Name: "m", Type: "smtp", Enabled: true}}
		e.count(id, &probe.Result{Status: probe.StatusUp})
	}
	chunks := 0
	snap := e.snapshot(&SnapshotBuffer{}, 3, func([]MonitorSnapshot) bool {
		chunks++
		if !e.mu.TryLock() {
			t.Fatal("the engine's lock is held between chunks")
		}
		if chunks == 1 {
			delete(e.monitors, 8) // deleted while the snapshot is taken
		}
		e.mu.Unlock()
		return true
	})
	if chunks != 4 {
		t.Errorf("%d chunks of 3 for %d monitors", chunks, n)
	}
	var ids []int64
	for _, m := range snap {
		ids = append(ids, m.ID)
		if len(m.Tests) != 1 || m.Tests[0].N != 1 {
			t.Errorf("monitor %d: tests %v", m.ID, m.Tests)
		}
	}
	if want := []int64{1, 2, 3, 4, 5, 6, 7, 9, 10}; !slices.Equal(ids, want) {
		t.Errorf("monitors %v, want %v", ids, want)
	}
}

// TestSnapshotTo: a snapshot into a buffer hands out its chunks in order
// as they are copied, stops when told to, and the next snapshot into the
// same buffer allocates nothing (at 100,000 monitors a fresh one faulted
// in ~15 MB a scrape); a monitor whose outcomes outgrow the buffer's
// counts gets a new array without moving those of the monitors before it.
func TestSnapshotTo(t *testing.T) {
	e := New(Options{})
	const n = 2*snapshotChunk + 10
	for i := range n {
		id := int64(i + 1)
		e.monitors[id] = &entry{m: monitorRef{ID: id, Name: "m", Type: "smtp", Enabled: true}}
		e.count(id, &probe.Result{Status: probe.StatusUp})
	}
	var buf SnapshotBuffer
	var chunks [][]MonitorSnapshot
	snap := e.SnapshotTo(&buf, func(c []MonitorSnapshot) bool { chunks = append(chunks, c); return true })
	if len(snap) != n || len(chunks) != 3 || &chunks[0][0] != &snap[0] || &chunks[2][0] != &snap[2*snapshotChunk] || len(chunks[2]) != 10 {
		t.Fatalf("%d monitors in %d chunks", len(snap), len(chunks))
	}
	if allocs := testing.AllocsPerRun(5, func() { e.SnapshotTo(&buf, nil) }); allocs != 0 {
		t.Errorf("a snapshot into a used buffer: %.0f allocations", allocs)
	}
	stopped := 0
	if part := e.SnapshotTo(&buf, func([]MonitorSnapshot) bool { stopped++; return false }); stopped != 1 || len(part) != snapshotChunk {
		t.Errorf("told to stop after the first chunk: %d chunks, %d monitors", stopped, len(part))
	}
	// the last monitors test many ways: the counts outgrow 2 a monitor
	for id := int64(n - 100); id <= n; id++ {
		for _, c := range []probe.Code{probe.Timeout, probe.ConnectFailed, probe.CertInvalid, probe.TLSFailed} {
			e.count(id, &probe.Result{Status: probe.StatusDown, Error: &probe.Error{Code: c}})
		}
	}
	snap = e.SnapshotTo(&buf, nil)
	for i, m := range snap {
		want := 1
		if m.ID >= n-100 {
			want = 5
		}
		if m.ID != int64(i+1) || len(m.Tests) != want || m.Tests[len(m.Tests)-1].N != 1 {
			t.Fatalf("monitor %d at %d: tests %v", m.ID, i, m.Tests)
		}
	}
}
