package engine

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// statusReads counts the statuses read one at a time.
type statusReads struct {
	store.Store
	one atomic.Int64
}

func (s *statusReads) Status(ctx context.Context, id int64) (*store.Status, error) {
	s.one.Add(1)
	return s.Store.Status(ctx, id)
}

// TestTakeOverReadsStatusesByPage: a node taking many leases at once (a
// dead node's monitors) reads their statuses a page at a time, not one
// query a lease: each lease was scheduled only once those before it were
// read, so the last ones were tested as late as the database was slow
// (the cluster test's take-over bound missed on a loaded machine). Each
// keeps its place after its last test, wherever it ran.
func TestTakeOverReadsStatusesByPage(t *testing.T) {
	c := newPGCluster(t, 5*time.Second)
	ctx := t.Context()
	const n = 60
	now := time.Now()
	var ms []*store.Monitor
	for i := range n {
		m := c.monitor(fmt.Sprintf("m%02d", i), config.Monitor{Timing: config.Timing{MaxDuration: config.Duration(time.Second), UpEvery: config.Duration(time.Hour)}})
		ms = append(ms, m)
		if i%2 == 0 { // tested a minute ago by a node now gone; the others never
			at := now.Add(-time.Minute)
			must(t, c.st.RecordTest(ctx, store.Test{Result: store.Result{MonitorID: m.ID, Time: at, Status: probe.StatusUp},
				Status: store.Status{MonitorID: m.ID, Status: state.Status{State: state.Up}, LastTest: at}}))
		}
	}
	st := &statusReads{Store: c.st}
	e := New(Options{Log: slog.New(slog.NewTextHandler(c.log, nil)), Store: st, Vault: c.v, Node: store.Node{ID: "a-adopt", Name: "a"},
		Cluster: c.st, Lease: c.lease, Probers: func(string) (probe.Prober, bool) { return noopProbe, true },
		Timing: config.TimingLimits{MinInterval: time.Millisecond}})
	must(t, e.Load(ctx))
	must(t, e.heartbeat(ctx))
	before := st.one.Load()
	must(t, e.leaseRound(ctx))
	if got := st.one.Load() - before; got != 0 {
		t.Errorf("taking %d leases read %d statuses one at a time, want none (a page at a time)", n, got)
	}
	for i, m := range ms {
		due, ok := e.sched.Due(m.ID)
		if !ok {
			t.Errorf("%s taken but not scheduled", m.Name)
			continue
		}
		if i%2 == 0 {
			// Its next place at least half an hour after its last test
			// (schedule.Next), an hour from now at the latest.
			if due.Before(now.Add(29*time.Minute)) || due.After(time.Now().Add(time.Hour)) {
				t.Errorf("%s, tested a minute ago, due %v: not at its place after its last test", m.Name, due.Sub(now))
			}
		} else if due.After(time.Now().Add(startWindow(1))) {
			t.Errorf("%s, never tested, due %v: not within the start window", m.Name, due)
		}
	}
}

func noopProbe(context.Context, *probe.Config, *probe.Trace) error { return nil }
