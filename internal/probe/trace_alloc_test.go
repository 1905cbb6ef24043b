package probe

import (
	"context"
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
