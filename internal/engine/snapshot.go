package engine

import (
	"cmp"
	"slices"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
)

// MonitorSnapshot is what the engine knows of one monitor now, for
// /metrics.
type MonitorSnapshot struct {
	ID     int64
	Name   string
	Device string
	Type   string
	State  state.State
	// Last is what /metrics shows of the last test since start (Status
	// "" before the first).
	Last LastTest
	// Tests are the tests since start by outcome, sorted by code then
	// result (the order client_golang wrote them in).
	Tests []TestCount
}

// LastTest is what the engine keeps of a monitor's last test since start
// for /metrics: its status, times and certificates' expiry, not its
// transcript or details (the store keeps the whole result).
type LastTest struct {
	Status        probe.Status
	RTT, Delivery time.Duration // Delivery: a round trip's, else 0
	Phases        []probe.Phase // the result's
	// CertNotAfter is when the server's certificate expires (a round
	// trip's mailbox's), SMTPCertNotAfter a round trip's SMTP leg's: Unix
	// seconds, 0 when the test saw none.
	CertNotAfter, SMTPCertNotAfter int64
}

// tested is what the engine keeps of a monitor tested since start, by
// value in its map (96 B: a map keeps values up to 128 B in its slots). It
// was a map of *probe.Result (a 224-B object a monitor, its Type, Started
// and TLS pointers unread) and another of counts.
type tested struct {
	last  LastTest
	tests counts
}

// TestKey counts tests by outcome and error code.
type TestKey struct {
	Result probe.Status
	Code   probe.Code
}

// TestCount is the number of tests of one outcome.
type TestCount struct {
	TestKey
	N int64
}

// counts are a monitor's tests since start, by outcome, sorted as
// MonitorSnapshot.Tests. A slice, not a map: a monitor has one to three
// outcomes, and a map of one cost ~400 B a monitor kept, and as much again
// copied for every /metrics scrape.
type counts []TestCount

// add counts a test of outcome k.
func (c counts) add(k TestKey) counts {
	i, found := slices.BinarySearchFunc(c, k, func(t TestCount, k TestKey) int {
		return cmp.Or(cmp.Compare(t.Code, k.Code), cmp.Compare(t.Result, k.Result))
	})
	if found {
		c[i].N++
		return c
	}
	return slices.Insert(c, i, TestCount{k, 1})
}

// Snapshot returns every loaded monitor's state and last result, sorted
// by ID: monitors deleted are gone from it at once.
func (e *Engine) Snapshot() []MonitorSnapshot {
	var buf SnapshotBuffer
	return e.snapshot(&buf, snapshotChunk, nil)
}

// SnapshotBuffer is the memory of a snapshot (its monitors, their counts
// and IDs: ~15 MB at 100,000 monitors), kept from one snapshot to the
// next by SnapshotTo so that a snapshot after the first faults in no
// fresh pages and gives the GC nothing to collect. The zero value is
// empty; a snapshot taken into it lasts until the next one is.
type SnapshotBuffer struct {
	ids      []int64
	monitors []MonitorSnapshot
	tests    counts
}

// SnapshotTo is Snapshot taken into buf's memory, handing each chunk to
// each as soon as it is copied (sorted by ID, after the chunk before),
// with the engine's lock released: a scrape writes a chunk's series while
// the next is copied. Copying stops when each returns false (the client
// went away); the snapshot returned is then what was copied. The chunks
// are parts of it.
func (e *Engine) SnapshotTo(buf *SnapshotBuffer, each func([]MonitorSnapshot) bool) []MonitorSnapshot {
	return e.snapshot(buf, snapshotChunk, each)
}

// snapshotChunk is how many monitors Snapshot copies under one hold of
// the engine's lock. Copying takes ~1 µs a monitor: at 100,000 monitors
// the whole copy held the lock ~100 ms, so tests finishing meanwhile (a
// /metrics scrape a minute, 1,667 tests a second) waited as long. A chunk
// holds it ~1 ms.
const snapshotChunk = 1024

// snapshot copies the monitors into buf a chunk at a time, calling each
// (if not nil) with each chunk, with the lock released. It lists their IDs
// under the lock (a few ms at 100,000), sorts them without it, then
// copies them a chunk at a time; a monitor deleted meanwhile is left out,
// one added meanwhile is in the next snapshot.
func (e *Engine) snapshot(buf *SnapshotBuffer, chunk int, each func([]MonitorSnapshot) bool) []MonitorSnapshot {
	e.mu.Lock()
	if cap(buf.ids) < len(e.monitors) {
		buf.ids = make([]int64, 0, len(e.monitors)+len(e.monitors)/16)
	}
	ids := buf.ids[:0]
	for id := range e.monitors {
		ids = append(ids, id)
	}
	e.mu.Unlock()
	buf.ids = ids
	slices.Sort(ids)
	if cap(buf.monitors) < len(ids) {
		// never grown while copying: the chunks handed out stay in place
		buf.monitors = make([]MonitorSnapshot, 0, len(ids)+len(ids)/16)
	}
	if cap(buf.tests) < len(ids) {
		// a monitor has one to three outcomes; more grows it (copyMonitors)
		buf.tests = make(counts, 0, 2*len(ids))
	}
	out, tests := buf.monitors[:0], buf.tests[:0]
	for len(ids) > 0 {
		part := ids[:min(chunk, len(ids))]
		ids = ids[len(part):]
		from := len(out)
		out, tests = e.copyMonitors(out, tests, part)
		if each != nil && !each(out[from:len(out):len(out)]) {
			break
		}
	}
	if cap(tests) > cap(buf.tests) {
		buf.tests = tests
	}
	return out
}

// copyMonitors appends to out the monitors of ids still loaded, under the
// engine's lock, and their counts to tests, each monitor's Tests a part of
// it: when tests is full a new array takes the rest (the parts already
// handed out stay where they are).
func (e *Engine) copyMonitors(out []MonitorSnapshot, tests counts, ids []int64) ([]MonitorSnapshot, counts) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, id := range ids {
		en, ok := e.monitors[id]
		if !ok {
			continue
		}
		t := e.tested[id]
		s := MonitorSnapshot{ID: id, Name: en.m.Name, Device: en.dev().Name, Type: en.m.Type,
			State: e.status[id].State, Last: t.last}
		if s.State == "" {
			s.State = state.Pending
		}
		if !en.m.Enabled {
			s.State = state.Disabled
		}
		if c := t.tests; len(c) > 0 {
			if cap(tests)-len(tests) < len(c) {
				tests = make(counts, 0, max(2*cap(tests), len(c)))
			}
			i := len(tests)
			tests = append(tests, c...)
			s.Tests = tests[i:len(tests):len(tests)]
		}
		out = append(out, s)
	}
	return out, tests
}

func (e *Engine) count(id int64, res *probe.Result) {
	k := TestKey{Result: res.Status}
	if res.Error != nil {
		k.Code = res.Error.Code
	}
	last := forMetrics(res)
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.tested[id]
	t.last, t.tests = last, t.tests.add(k)
	e.tested[id] = t
}

// forMetrics is what MonitorSnapshot.Last keeps of res. The whole result
// of every monitor's last test (its transcript above all) was ~1.4 KiB a
// monitor of live heap, 28 MB at 20,000 monitors, read by nothing but
// /metrics.
func forMetrics(res *probe.Result) LastTest {
	return LastTest{Status: res.Status, RTT: res.RTT, Delivery: res.Delivery, Phases: res.Phases,
		CertNotAfter: certExpiry(res.TLS), SMTPCertNotAfter: certExpiry(res.LegTLS(probe.LegSMTP))}
}

// certExpiry is when info's certificate expires, in Unix seconds; 0 when
// none.
func certExpiry(info *probe.TLSInfo) int64 {
	if info == nil || info.CertNotAfter.IsZero() {
		return 0
	}
	return info.CertNotAfter.Unix()
}
