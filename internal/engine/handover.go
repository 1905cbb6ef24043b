package engine

import (
	"context"
	"slices"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// A node over its fair share (another node joined, monitors were deleted,
// or it is stopping) hands leases over rather than giving them back: it
// keeps testing a lease until the lease is handed to a node under its
// share, and hands it only between two tests, when the next is at least
// handoverLead away (or right after a test ends). The taker finds it among
// its leases in its next round, before that next test is due, and tests it
// at the monitor's place in its interval: no monitor goes untested longer
// than its interval (plus a round, for intervals shorter than the lead).
// Every node computes the same matching of givers to takers from the lease
// counts, so two givers do not fill one taker twice.

// handoff is a lease planned to go to another node.
type handoff struct {
	lease store.Lease
	to    string // the taker's id
}

// handoverLead is how far off a lease's next test must be for it to be
// handed over now: the taker, which looks every round, takes it before.
func (cl *cluster) handoverLead() time.Duration { return 2 * cl.round() }

// takersFor matches the givers of a class (nodes over their share) with
// its takers (under theirs), both in id order, and returns the takers of
// this node's excess, one entry a lease. shares are the class's shares by
// node (nodes not in it, leaving ones, have none); counts the leases each
// node holds (this node's: have).
func takersFor(me, class string, shares map[string]int, counts []store.LeaseCount, have int) []string {
	held := map[string]int{}
	for _, c := range counts {
		if c.Location == class {
			held[c.Node] = c.N
		}
	}
	held[me] = have
	var nodes []string
	for n := range held {
		nodes = append(nodes, n)
	}
	for n := range shares {
		if _, ok := held[n]; !ok {
			nodes = append(nodes, n)
		}
	}
	slices.Sort(nodes)
	type want struct {
		node string
		n    int
	}
	var givers, takers []want
	for _, n := range nodes {
		switch d := held[n] - shares[n]; {
		case d > 0:
			givers = append(givers, want{n, d})
		case d < 0:
			takers = append(takers, want{n, -d})
		}
	}
	var out []string
	for _, g := range givers {
		for g.n > 0 && len(takers) > 0 {
			k := min(g.n, takers[0].n)
			if g.node == me {
				for range k {
					out = append(out, takers[0].node)
				}
			}
			g.n -= k
			if takers[0].n -= k; takers[0].n == 0 {
				takers = takers[1:]
			}
		}
	}
	return out
}

// handOver hands over the planned leases whose test is not running and
// whose next test is at least the lead away (or which are not scheduled:
// disabled), each taker's in one write.
func (e *Engine) handOver(ctx context.Context) error {
	cl := e.cl
	now := time.Now()
	byTaker := map[string][]store.Lease{}
	cl.mu.Lock()
	for id, h := range cl.handing {
		if _, running := cl.running[id]; running {
			continue
		}
		if due, ok := e.sched.Due(id); ok && due.Sub(now) < cl.handoverLead() {
			continue // tested first; handed over when that test ends
		}
		byTaker[h.to] = append(byTaker[h.to], h.lease)
		delete(cl.handing, id)
		delete(cl.held, id)
	}
	cl.mu.Unlock()
	var firstErr error
	for to, ls := range byTaker {
		for _, l := range ls {
			e.sched.Remove(l.MonitorID)
		}
		// On failure the leases are still this node's in the database:
		// the next round finds them and tests them again.
		if err := cl.c.Handover(ctx, cl.node.ID, to, ls); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// handOffAfterTest hands a lease over right after its test, if it is
// planned to go: its next test is a whole interval away.
func (e *Engine) handOffAfterTest(ctx context.Context, id int64) {
	cl := e.cl
	// Not while a round runs: it read this node's leases from the
	// database before, and would take this one back as found (two nodes
	// testing it until the fence caught it). That round's hand-over, or
	// the next's, hands it instead: its next test is an interval away.
	if !cl.rounds.TryLock() {
		return
	}
	defer cl.rounds.Unlock()
	cl.mu.Lock()
	h, ok := cl.handing[id]
	if ok {
		delete(cl.handing, id)
		delete(cl.held, id)
	}
	cl.mu.Unlock()
	if !ok {
		return
	}
	e.sched.Remove(id)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cl.lease/2)
	defer cancel()
	if err := cl.c.Handover(ctx, cl.node.ID, h.to, []store.Lease{h.lease}); err != nil {
		e.o.Log.Warn("handing a lease over failed; the next round takes it up again", "monitor", id, "err", err)
	}
}

// drain is a graceful stop's first part: the node says it is leaving and
// hands every lease over to the nodes that stay, testing each until it
// goes, for at most budget; what is left is released by leave.
func (e *Engine) drain(ctx context.Context, budget time.Duration) {
	cl := e.cl
	cl.mu.Lock()
	cl.leaving = true
	n := len(cl.held)
	cl.mu.Unlock()
	if n == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	if err := e.heartbeat(ctx); err != nil {
		return // the others cannot be told: leave releases all
	}
	every(ctx, cl.clock, cl.round()/4, func() bool {
		err := e.leaseRound(ctx)
		cl.mu.Lock()
		left, planned := len(cl.held), len(cl.handing)
		cl.mu.Unlock()
		// Nothing more to hand over when none is left or planned: no
		// node to take the rest (this was the last of its class), or
		// the database is away.
		return err == nil && left > 0 && planned > 0
	})
}
