package gctune

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, maxPercent},                    // nothing measured yet
		{1 * mib, maxPercent},              // 6400% capped
		{16 * mib, 400},                    // next collection at 16 + 64 MiB
		{64 * mib, 100},                    // headroom equal to live: the default
		{512 * mib, 100},                   // large heaps keep the proportional rule
		{DefaultHeadroom * 100 / 250, 250}, // in between
	} {
		if got := Percent(c.live, DefaultHeadroom); got != c.want {
			t.Errorf("Percent(%d MiB) = %d, want %d", c.live/mib, got, c.want)
		}
	}
}

func gogc() int64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// TestRunSetsAndRestores: while Run runs, the collector's percentage follows
// the live heap (a test binary's is far below the headroom, so the cap); when
// it stops, the percentage it found is back.
func TestRunSetsAndRestores(t *testing.T) {
	if Overridden() {
		t.Skip("GOGC or GOMEMLIMIT is set in the environment; Run leaves the runtime alone then (unset them to run this test)")
	}
	before := debug.SetGCPercent(150)
	defer debug.SetGCPercent(before)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { Run(ctx, DefaultHeadroom, 10*time.Millisecond); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for gogc() != maxPercent && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := gogc(); got != maxPercent {
		t.Fatalf("GOGC while running = %d, want %d", got, maxPercent)
	}
	cancel()
	<-done
	if got := gogc(); got != 150 {
		t.Errorf("GOGC after Run = %d, want the 150 it found", got)
	}
}

func TestRunLeavesUserSettingAlone(t *testing.T) {
	t.Setenv("GOGC", "300")
	before := debug.SetGCPercent(300)
	defer debug.SetGCPercent(before)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { Run(ctx, DefaultHeadroom, time.Millisecond); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run kept running with GOGC set in the environment")
	}
	if got := gogc(); got != 300 {
		t.Errorf("GOGC = %d with GOGC=300 in the environment, want it untouched", got)
	}
}

func TestBatchSetsAndRestores(t *testing.T) {
	if Overridden() {
		t.Skip("GOGC or GOMEMLIMIT is set in the environment; Batch leaves the runtime alone then (unset them to run this test)")
	}
	before := debug.SetGCPercent(150)
	defer debug.SetGCPercent(before)
	restore := Batch()
	if got := gogc(); got != BatchPercent {
		t.Errorf("GOGC in a batch = %d, want %d", got, BatchPercent)
	}
	restore()
	if got := gogc(); got != 150 {
		t.Errorf("GOGC after the batch = %d, want the 150 it found", got)
	}
}

func TestBatchLeavesUserSettingAlone(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "1GiB")
	before := debug.SetGCPercent(300)
	defer debug.SetGCPercent(before)
	defer Batch()()
	if got := gogc(); got != 300 {
		t.Errorf("GOGC = %d with GOMEMLIMIT set in the environment, want it untouched", got)
	}
}
