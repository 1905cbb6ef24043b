package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
)

// hangingRecord is a store whose RecordTest hangs until its context ends
// and reports how it ended.
type hangingRecord struct {
	store.Store
	ended chan error
}

func (s hangingRecord) RecordTest(ctx context.Context, _ store.Test) error {
	<-ctx.Done()
	s.ended <- ctx.Err()
	return ctx.Err()
}

// TestScheduledTestEndsByItsDeadline: a scheduled test, which the
// scheduler no longer wraps in a context of its own, still ends by the
// scheduler's deadline (its limit): a probe that hangs past the deadline
// though its own timeout is later, and a recording that hangs after a
// probe that ended at once.
func TestScheduledTestEndsByItsDeadline(t *testing.T) {
	var probeEnded chan error
	hang := func(ctx context.Context, _ *probe.Config, _ *probe.Trace) error {
		<-ctx.Done()
		probeEnded <- ctx.Err()
		return ctx.Err()
	}
	t.Run("probe", func(t *testing.T) {
		probeEnded = make(chan error, 1)
		e, id := benchEngine(t, "tcp", config.Monitor{Port: 25}, func(st store.Store) store.Store { return dropTests{st} })
		e.o.Probers = func(string) (probe.Prober, bool) { return hang, true }
		if timeout := e.monitors[id].cfg.Timeout; timeout < 2*time.Second {
			t.Fatalf("probe timeout %v: too short to tell from the deadline", timeout)
		}
		start := time.Now()
		e.test(context.Background(), id, start.Add(200*time.Millisecond))
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("the test took %v, past its deadline (200 ms)", took)
		}
		if err := <-probeEnded; !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("the probe's context ended with %v, want the deadline", err)
		}
	})
	t.Run("record", func(t *testing.T) {
		ended := make(chan error, 1)
		e, id := benchEngine(t, "tcp", config.Monitor{Port: 25}, func(st store.Store) store.Store { return hangingRecord{st, ended} })
		e.o.Probers = func(string) (probe.Prober, bool) { return denied, true }
		start := time.Now()
		e.test(context.Background(), id, start.Add(200*time.Millisecond))
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("the test took %v, past its deadline (200 ms)", took)
		}
		select {
		case err := <-ended:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("the recording's context ended with %v, want the deadline", err)
			}
		default:
			t.Error("the recording did not end")
		}
	})
}

// TestScheduledTestCancelledWithItsContext: a test whose context is
// cancelled (a cluster's lease lost) ends then, before its deadline.
func TestScheduledTestCancelledWithItsContext(t *testing.T) {
	probeEnded := make(chan error, 1)
	hang := func(ctx context.Context, _ *probe.Config, _ *probe.Trace) error {
		<-ctx.Done()
		probeEnded <- ctx.Err()
		return ctx.Err()
	}
	e, id := benchEngine(t, "tcp", config.Monitor{Port: 25}, func(st store.Store) store.Store { return dropTests{st} })
	e.o.Probers = func(string) (probe.Prober, bool) { return hang, true }
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	e.test(ctx, id, start.Add(time.Minute))
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the test took %v after its context was cancelled at 100 ms", took)
	}
	if err := <-probeEnded; !errors.Is(err, context.Canceled) {
		t.Errorf("the probe's context ended with %v, want cancelled", err)
	}
}
