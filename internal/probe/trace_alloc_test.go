package probe

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// TestTraceAllocations: a test's trace, from NewTrace to its Result,
// allocates the trace once (its transcript, secrets and first phases
// within it), hands its details over to the result rather than copy
// them, and otherwise one string a transcript line: 7 allocations and
// the lines (13 and the lines before).
func TestTraceAllocations(t *testing.T) {
	ctx := context.Background()
	cfg := &Config{Type: "smtp", Host: "192.0.2.1", Port: 25, Timeout: time.Second}
	const lines = 10
	n := testing.AllocsPerRun(100, func() {
		tr := NewTrace(ctx, nil)
		tr.Transcript.Note("connected to 192.0.2.1:25")
		for _, phase := range []string{"connect", "greeting", "capabilities", "quit"} {
			tr.Step(phase, func() error { return nil })
		}
		for range lines - 1 {
			tr.Transcript.Server("250-PIPELINING")
		}
		tr.Detail("greeting", "220 mx.example.net ESMTP")
		tr.Detail("size_limit", 10240000)
		if r := tr.Result(cfg, nil); len(r.Transcript) != lines || len(r.Details) != 2 || len(r.Phases) != 4 {
			t.Fatalf("result %+v", r)
		}
	})
	if max := float64(lines + 7); n > max {
		t.Errorf("%v allocations for a trace of %d transcript lines, want %v at most", n, lines, max)
	}
}

// TestTraceDetailAfterResult: the details handed to a Result are not
// changed by a detail the trace records after it.
func TestTraceDetailAfterResult(t *testing.T) {
	tr := NewTrace(context.Background(), nil)
	tr.Detail("greeting", "220 hi")
	r := tr.Result(&Config{Type: "smtp", Host: "192.0.2.1", Port: 25}, nil)
	tr.Detail("late", true)
	tr.Detail("greeting", "changed")
	if len(r.Details) != 1 || r.Details["greeting"] != "220 hi" {
		t.Errorf("the result's details changed under it: %v", r.Details)
	}
	if r2 := tr.Result(&Config{Type: "smtp", Host: "192.0.2.1", Port: 25}, nil); len(r2.Details) != 2 || r2.Details["greeting"] != "changed" {
		t.Errorf("a second result's details: %v", r2.Details)
	}
}

var traceSink *Trace

// TestSmallTrace: a small check's trace (Kind.SmallTrace: tcp) is one
// allocation of 512 bytes with room for its first lines and phases (a
// full one's is 896), and keeps every line and phase past that room.
func TestSmallTrace(t *testing.T) {
	ctx := context.Background()
	bytes := func(small bool) uint64 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		for range 100 {
			traceSink = newTrace(ctx, nil, small)
		}
		runtime.ReadMemStats(&ms)
		return (ms.TotalAlloc - before) / 100
	}
	if n := testing.AllocsPerRun(100, func() { traceSink = newTrace(ctx, nil, true) }); n != 1 {
		t.Errorf("a small trace: %v allocations, want 1", n)
	}
	if small, full := bytes(true), bytes(false); small > 512 || full > 896 {
		t.Errorf("a trace: %d bytes small, %d full; want 512 and 896 at most", small, full)
	}
	cfg := &Config{Type: "tcp", Host: "192.0.2.1", Port: 25}
	tr := newTrace(ctx, nil, true)
	for i := range 6 {
		tr.Transcript.Note(fmt.Sprint("line ", i))
		tr.Step(fmt.Sprint("phase", i), func() error { return nil })
	}
	r := tr.Result(cfg, nil)
	if len(r.Transcript) != 6 || r.Transcript[5] != "-- line 5" || len(r.Phases) != 6 || r.Phases[5].Name != "phase5" {
		t.Errorf("past its room: lines %q, phases %v", r.Transcript, r.Phases)
	}
}
