package proctune

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/testutil/syncbuf"
)

// eventually waits up to d for GOMAXPROCS to satisfy ok.
func eventually(t *testing.T, d time.Duration, what string, ok func(int) bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok(runtime.GOMAXPROCS(0)) {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: GOMAXPROCS %d, want %s", d, runtime.GOMAXPROCS(0), what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRunFollowsTheLoad runs the tuner for real: an idle test binary comes
// down to one P; goroutines that keep the CPU busy take it back up to the
// default (by the busy share, or by the wait for the one P where the
// machine is too loaded to give the process a core); when they stop it
// comes down again; and when Run ends the runtime's default is back.
func TestRunFollowsTheLoad(t *testing.T) {
	if Overridden() {
		t.Skip("GOMAXPROCS is set in the environment; Run leaves the runtime alone then (unset it to run this test)")
	}
	bound := runtime.GOMAXPROCS(0)
	if bound < 2 {
		t.Skip("the runtime's default is one P here: Run leaves it alone")
	}
	defer runtime.GOMAXPROCS(bound)
	// Low busy thresholds: on a machine busy with other tests the spinning
	// process may get well under a core.
	p := DefaultPolicy
	p.UpBusy, p.DownBusy, p.Quiet = 0.25, 0.15, 2*time.Second
	var log syncbuf.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		Run(ctx, p, 100*time.Millisecond, 500*time.Millisecond, slog.New(slog.NewTextHandler(&log, nil)))
		close(done)
	}()
	eventually(t, 60*time.Second, "1 once idle", func(n int) bool { return n == 1 })

	var stop atomic.Bool
	var spinning sync.WaitGroup
	for range 2 * bound {
		spinning.Go(func() {
			for x := 0; !stop.Load(); x++ {
			}
		})
	}
	eventually(t, 60*time.Second, "more than 1 under load", func(n int) bool { return n > 1 })
	stop.Store(true)
	spinning.Wait()
	eventually(t, 60*time.Second, "1 once the load stopped", func(n int) bool { return n == 1 })

	cancel()
	<-done
	if got := runtime.GOMAXPROCS(0); got != bound {
		t.Errorf("GOMAXPROCS after Run = %d, want the default %d back", got, bound)
	}
	for _, want := range []string{fmt.Sprintf(`msg="GOMAXPROCS changed" from=%d to=1 `, bound), `msg="GOMAXPROCS changed" from=1 to=`} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, log.String())
		}
	}
}

func TestRunLeavesTheOperatorsSettingAlone(t *testing.T) {
	t.Setenv("GOMAXPROCS", "2")
	before := runtime.GOMAXPROCS(0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	// A policy that would come down at once, were Run to tune.
	p := Policy{UpBusy: 100, UpWait: time.Hour, DownBusy: 100}
	go func() { Run(ctx, p, time.Millisecond, time.Millisecond, slog.New(slog.DiscardHandler)); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run kept running with GOMAXPROCS set in the environment")
	}
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Errorf("GOMAXPROCS = %d with GOMAXPROCS=2 in the environment, want %d untouched", got, before)
	}
}

func TestP99(t *testing.T) {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	edges := []float64{math.Inf(-1), 0, 1e-3, 1e-2, 2e-2, 1e-1, math.Inf(1)}
	zero := make([]uint64, 6)
	for _, c := range []struct {
		counts []uint64
		want   time.Duration
	}{
		{[]uint64{0, 0, 0, 0, 0, 0}, 0},                // none
		{[]uint64{0, 10, 10, 0, 0, 0}, 0},              // too few to say
		{[]uint64{0, 1000, 0, 0, 0, 0}, ms(0.99)},      // 990th of 1000 evenly in [0, 1 ms)
		{[]uint64{0, 990, 10, 0, 0, 0}, ms(1)},         // the 990th is the last under 1 ms
		{[]uint64{0, 980, 20, 0, 0, 0}, ms(5.5)},       // half way into [1, 10 ms)
		{[]uint64{0, 900, 80, 20, 0, 0}, ms(15)},       // half way into [10, 20 ms)
		{[]uint64{0, 900, 50, 0, 0, 50}, ms(100)},      // the unbounded bucket: its finite edge
		{[]uint64{5, 995, 0, 0, 0, 0}, ms(0.98994975)}, // below zero (never, for a time) counts as zero
	} {
		got := p99(zero, c.counts, edges)
		if d := got - c.want; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("p99 of %v = %v, want %v", c.counts, got, c.want)
		}
	}
	// Counts are cumulative: only the window's difference counts.
	if got := p99([]uint64{0, 0, 0, 0, 0, 100}, []uint64{0, 1000, 0, 0, 0, 100}, edges); got > time.Millisecond {
		t.Errorf("p99 of a window after slow waits = %v, want under 1 ms: the earlier waits are not the window's", got)
	}
}
