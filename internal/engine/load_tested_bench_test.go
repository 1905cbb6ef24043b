package engine

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// loadTested has BenchmarkLoad's monitors each tested once before the
// load (a status stored, as serve finds them when it restarts); without
// it the statuses' table is empty.
var loadTested = flag.Bool("load.tested", false, "BenchmarkLoad's monitors each tested once (a status stored)")

// testOnce stores one passed test of each monitor in st, at the slot of
// a monitor tested every minute, in one transaction.
func testOnce(tb testing.TB, st store.Store) {
	tb.Helper()
	ctx := context.Background()
	now := time.Now()
	var ids []int64
	err := store.Walk(ctx, 1000, store.AllMonitors(st), store.MonitorID, func(ms []store.Monitor, _ int) error {
		for _, m := range ms {
			ids = append(ids, m.ID)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	err = store.Batch(ctx, st, func(c store.Config) error {
		tx := c.(store.Store)
		for _, id := range ids {
			res := &probe.Result{Type: "smtp", Status: probe.StatusUp, Started: now, RTT: 3 * time.Millisecond}
			if err := tx.RecordTest(ctx, store.Test{Result: store.Result{MonitorID: id, Time: now, Status: probe.StatusUp, RTT: res.RTT},
				Status:   store.Status{MonitorID: id, Status: state.Status{State: state.Up, Since: now}, LastResult: res, LastTest: now},
				Interval: time.Minute,
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}
