package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/mailmon/mailmon/internal/schedule"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// Several nodes on one database (Options.Cluster): every node loads every
// monitor, but tests only those it holds a lease on. A lease is valid while
// its node's heartbeat is fresh, so one write a round renews them all. Each
// round (a fifth of the lease period) a node heartbeats (for four fifths of
// the period), takes free leases up to its fair share (the monitors of its
// class divided by the live nodes of that class; where that does not divide,
// the first nodes by id take one more), and hands what it holds over its
// share to nodes under theirs (handover.go). A killed node's heartbeat
// expires within four fifths of the lease period and the others take its
// monitors in their next round: within one lease period. A node that
// stops gracefully hands its leases over before it goes.
//
// No test overlaps another of the same monitor: a node starts a test only
// on a lease it holds; gives a lease away only when no test of it runs;
// cancels its tests when it could not renew its heartbeat for three of five
// rounds (before it expires); and stores a test only if it still holds the
// lease, checked in the test's transaction (a fence).

// cluster is a node's view of its leases.
type cluster struct {
	c     store.Cluster
	node  store.Node
	lease time.Duration // the lease period
	clock clock         // the rounds' cadence (cadence.go)
	ttl   time.Duration // a heartbeat's life: four fifths of it

	rounds    sync.Mutex    // one lease round at a time (the loop's, a drain's)
	firstBeat chan struct{} // closed once the first heartbeat landed

	mu         sync.Mutex
	held       map[int64]store.Lease        // by monitor
	releasing  map[int64]store.Lease        // given up, to release once not running
	handing    map[int64]handoff            // held, to hand over (handover.go)
	running    map[int64]context.CancelFunc // tests in flight
	aliveUntil time.Time                    // the heartbeat's expiry, in this node's clock
	fruitless  map[string]string            // by class: the situation in which Acquire last found nothing
	live       map[string]bool              // the locations with a live node, as of the last round
	leaving    bool                         // stopping: handing every lease over
	health     leaseHealth                  // health.go
}

// newCluster: a node heartbeats every fifth of the lease period for four
// fifths of it, so that a dead node's heartbeat expires within four fifths
// and the others, in rounds every fifth, take its leases within one lease
// period of its death.
func newCluster(c store.Cluster, node store.Node, lease time.Duration) *cluster {
	return &cluster{c: c, node: node, lease: lease, ttl: lease * 4 / 5, clock: realClock{}, firstBeat: make(chan struct{}),
		held: map[int64]store.Lease{}, releasing: map[int64]store.Lease{}, handing: map[int64]handoff{},
		running: map[int64]context.CancelFunc{}, fruitless: map[string]string{}}
}

func (cl *cluster) round() time.Duration { return cl.lease / 5 }

// begin marks a test of monitor id as running and returns its context,
// canceled if the lease is lost; ok is false when the node does not hold
// the lease (or its heartbeat is about to expire).
func (cl *cluster) begin(ctx context.Context, id int64) (context.Context, store.Lease, bool) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	l, ok := cl.held[id]
	if !ok || !cl.aliveLocked() {
		return ctx, l, false
	}
	ctx, cancel := context.WithCancel(ctx)
	cl.running[id] = cancel
	return ctx, l, true
}

// alive says whether the node's heartbeat has life enough left to start
// a test or a delivery (two rounds: it is renewed every round).
func (cl *cluster) alive() bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.aliveLocked()
}

func (cl *cluster) aliveLocked() bool { return time.Until(cl.aliveUntil) >= 2*cl.round() }

func (cl *cluster) end(id int64) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cancel, ok := cl.running[id]; ok {
		cancel()
		delete(cl.running, id)
	}
}

func (cl *cluster) holds(id int64) (store.Lease, bool) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	l, ok := cl.held[id]
	return l, ok
}

// liveLocations are the locations with a live node as of the last round
// (nil before the first).
func (cl *cluster) liveLocations() map[string]bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.live
}

// holds reports whether this node tests monitor id (always, on one node).
func (e *Engine) holds(id int64) bool {
	if e.cl == nil {
		return true
	}
	_, ok := e.cl.holds(id)
	return ok
}

// leases runs the node's rounds of taking and handing over leases, until
// ctx ends. The heartbeats (heartbeats, run beside it by Run) have a loop
// of their own so that a slow round (thousands of monitors on a busy
// database) never delays them. The first round follows the first heartbeat
// at once: a node that joins takes its share without waiting a round.
func (e *Engine) leases(ctx context.Context) {
	select {
	case <-e.cl.firstBeat:
	case <-ctx.Done():
		return
	}
	every(ctx, e.cl.clock, e.cl.round(), func() bool {
		e.cl.mu.Lock()
		alive := time.Until(e.cl.aliveUntil) > 2*e.cl.round()
		e.cl.mu.Unlock()
		if alive {
			rctx, cancel := context.WithTimeout(ctx, e.cl.lease/2)
			if err := e.leaseRound(rctx); err != nil && ctx.Err() == nil {
				e.o.Log.Warn("lease round failed", "node", e.cl.node.Name, "err", err)
			}
			cancel()
		}
		return true
	})
}

// heartbeats renews the node's heartbeat every round; when it could not
// for three rounds of five, the node stops testing before it expires and
// another node takes the monitors.
func (e *Engine) heartbeats(ctx context.Context) {
	cl := e.cl
	first := true
	every(ctx, cl.clock, cl.round(), func() bool {
		err := e.heartbeat(ctx)
		cl.mu.Lock()
		stale := time.Until(cl.aliveUntil) < 2*cl.round()
		cl.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			e.o.Log.Warn("heartbeat failed", "node", cl.node.Name, "err", err)
		}
		if stale {
			e.dropAll("the heartbeat could not be renewed")
		}
		if err == nil && first {
			first = false
			close(cl.firstBeat)
		}
		return true
	})
}

// heartbeat renews the node's heartbeat once (saying whether it is
// leaving); a node away too long starts over.
func (e *Engine) heartbeat(ctx context.Context) error {
	cl := e.cl
	// Given up to half a heartbeat's life: on a busy database a slow
	// heartbeat that lands is worth more than a fast one that fails.
	hctx, cancel := context.WithTimeout(ctx, cl.ttl/2)
	defer cancel()
	cl.mu.Lock()
	n := cl.node
	n.Leaving = cl.leaving
	cl.mu.Unlock()
	start := time.Now()
	_, err := cl.c.Heartbeat(hctx, n, cl.ttl)
	if errors.Is(err, store.ErrNodeExpired) {
		// Away too long: the others may test our monitors now.
		// Start over.
		e.dropAll("the heartbeat expired")
		if err = cl.c.Leave(hctx, n.ID); err == nil {
			start = time.Now()
			_, err = cl.c.Heartbeat(hctx, n, cl.ttl)
		}
	}
	if err == nil {
		cl.mu.Lock()
		cl.aliveUntil = start.Add(cl.ttl)
		cl.mu.Unlock()
	}
	e.health.observe(err, time.Now())
	return err
}

// release gives back every lease the node still holds (those a drain
// could not hand over), once no test of them runs, so that the others take
// its monitors at once, while its heartbeat still holds the claims of the
// deliveries under way.
func (e *Engine) release(ctx context.Context) {
	e.dropAll("")
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	ls, err := e.cl.c.Leases(ctx, e.cl.node.ID)
	if err == nil {
		err = e.cl.c.Release(ctx, e.cl.node.ID, ls)
	}
	if err != nil {
		e.o.Log.Warn("giving the leases back failed; the others take over when the heartbeat expires", "err", err)
	}
}

// leave removes the node, giving back every lease it still holds, so that
// the others take its monitors at once rather than after its heartbeat
// expires.
func (e *Engine) leave(ctx context.Context) {
	e.dropAll("")
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := e.cl.c.Leave(ctx, e.cl.node.ID); err != nil {
		e.o.Log.Warn("leaving the cluster failed; the others take over when the heartbeat expires", "err", err)
	}
}

// nodeClasses are the classes a node's leases are of: "" (any monitor)
// and its location.
func nodeClasses(n store.Node) []string {
	if n.Location == "" {
		return []string{""}
	}
	return []string{"", n.Location}
}

func (e *Engine) leaseRound(ctx context.Context) error {
	cl := e.cl
	cl.rounds.Lock()
	defer cl.rounds.Unlock()
	// The live nodes now, not as of the last heartbeat: a node that just
	// died is noticed a round sooner.
	live, err := cl.c.Nodes(ctx)
	if err != nil {
		return err
	}
	e.noteLocations(live)

	// The database is the truth: leases it does not give this node are
	// not this node's; leases it does (acquired in a round whose answer
	// was lost, or handed over by another node) are.
	dbHeld, err := cl.c.Leases(ctx, cl.node.ID)
	if err != nil {
		return err
	}
	inDB := map[store.Lease]bool{}
	for _, l := range dbHeld {
		inDB[l] = true
	}
	// What this node may hold now: a monitor whose locations changed has
	// a lease of another class, which is given back.
	units := e.units()
	mayHold := map[store.Lease]bool{}
	for _, us := range units {
		for _, u := range us {
			mayHold[u] = true
		}
	}
	cl.mu.Lock()
	var lost, stale []int64
	for id, l := range cl.held {
		switch {
		case !inDB[l]:
			lost = append(lost, id)
		case !mayHold[l]:
			stale = append(stale, id)
		}
	}
	var found, strays []store.Lease
	for l := range inDB {
		h, ok := cl.held[l.MonitorID]
		switch {
		case ok && h == l, cl.releasing[l.MonitorID] == l:
		case !mayHold[l]:
			strays = append(strays, l) // not ours to test: back at once
		default:
			found = append(found, l)
		}
	}
	cl.mu.Unlock()
	for _, id := range lost {
		e.o.Log.Warn("a lease is gone: taken by another node, or its monitor deleted", "monitor", id)
		e.drop(id)
	}
	for _, id := range stale {
		e.giveUp(id)
	}
	if err := cl.c.Release(ctx, cl.node.ID, strays); err != nil {
		return err
	}

	// Release what was given up and no longer runs.
	var free []store.Lease
	cl.mu.Lock()
	for id, l := range cl.releasing {
		if _, running := cl.running[id]; !running {
			free = append(free, l)
			delete(cl.releasing, id)
		}
	}
	leaving := cl.leaving
	cl.mu.Unlock()
	if err := cl.c.Release(ctx, cl.node.ID, free); err != nil {
		return err
	}

	// Fair shares, by class, among the nodes that stay.
	shares := fairShares(live, units, cl.node.ID, leaving)
	cl.mu.Lock()
	heldBy := map[string][]int64{}
	for id, l := range cl.held {
		heldBy[l.Location] = append(heldBy[l.Location], id)
	}
	cl.mu.Unlock()
	for _, l := range found {
		heldBy[l.Location] = append(heldBy[l.Location], l.MonitorID)
	}
	var adopt []store.Lease
	adopt = append(adopt, found...)
	plan := map[int64]handoff{}
	var counts []store.LeaseCount // read once, when a class is over its share
	should := 0
	for class, us := range units {
		share := shares[class][cl.node.ID]
		should += share
		have := len(heldBy[class])
		// Acquire is skipped while nothing changed since it last found
		// nothing free (every lease held by live nodes), but tried again
		// every lease period.
		situation := fmt.Sprintf("%d/%d/%d/%d", len(live), len(us), have, time.Now().UnixNano()/int64(cl.lease))
		switch {
		case have < share && cl.fruitless[class] != situation:
			var want []store.Lease
			for _, u := range us {
				if _, mine := cl.holds(u.MonitorID); !mine && !slices.Contains(found, u) {
					want = append(want, u)
				}
			}
			got, err := cl.c.Acquire(ctx, cl.node.ID, want, share-have)
			if err != nil {
				return err
			}
			if len(got) == 0 {
				cl.fruitless[class] = situation
			}
			adopt = append(adopt, got...)
		case have > share:
			if counts == nil {
				if counts, err = cl.c.LeaseCounts(ctx); err != nil {
					return err
				}
			}
			ids := heldBy[class]
			sort.Slice(ids, func(a, b int) bool { return ids[a] > ids[b] })
			excess := ids[:have-share]
			takers := takersFor(cl.node.ID, class, shares[class], counts, have)
			for _, id := range excess {
				if len(takers) == 0 {
					if !leaving {
						e.giveUp(id) // no node is under its share: back, for whoever takes it
					}
					continue
				}
				plan[id] = handoff{lease: store.Lease{MonitorID: id, Location: class}, to: takers[0]}
				takers = takers[1:]
			}
		}
	}
	if err := e.adoptAll(ctx, adopt); err != nil {
		return err
	}
	if err := e.reschedule(ctx); err != nil {
		return err
	}
	cl.mu.Lock()
	cl.handing = plan
	cl.health.round(time.Now(), should, len(cl.held))
	cl.mu.Unlock()
	return e.handOver(ctx)
}

// fairShares are the shares of each class's monitors among the live
// nodes of that class that are not leaving (ordered by id, as Nodes
// returns them: the first len%n take one more), by class and node. A
// leaving node, and this one while leaving, has none.
func fairShares(live []store.Node, units map[string][]store.Lease, me string, leaving bool) map[string]map[string]int {
	staying := map[string][]string{}
	for _, n := range live {
		if n.Leaving || (leaving && n.ID == me) {
			continue
		}
		for _, class := range nodeClasses(n) {
			staying[class] = append(staying[class], n.ID)
		}
	}
	out := map[string]map[string]int{}
	for class, us := range units {
		out[class] = map[string]int{}
		nodes := staying[class]
		for rank, id := range nodes {
			share := len(us) / len(nodes)
			if rank < len(us)%len(nodes) {
				share++
			}
			out[class][id] = share
		}
	}
	return out
}

// noteLocations keeps the locations with a live node, and logs a location
// that lost its last one: its K-of-N monitors count it as unknown from
// now on (and keep their state where that leaves too few to decide).
func (e *Engine) noteLocations(live []store.Node) {
	now := map[string]bool{}
	for _, n := range live {
		if n.Location != "" {
			now[n.Location] = true
		}
	}
	e.cl.mu.Lock()
	before := e.cl.live
	e.cl.live = now
	e.cl.mu.Unlock()
	if before == nil {
		return
	}
	for _, loc := range slices.Sorted(maps.Keys(before)) {
		if !now[loc] {
			e.o.Log.Warn("a location lost its last live node: its K-of-N monitors count it as unknown, and keep their state where the other locations cannot decide",
				"location", loc)
		}
	}
	for _, loc := range slices.Sorted(maps.Keys(now)) {
		if !before[loc] {
			e.o.Log.Info("a location has a live node", "location", loc)
		}
	}
}

// units lists the leases this node may hold: every monitor (class ""),
// but a monitor tested from several locations only in this node's
// location, if it is one of them.
func (e *Engine) units() map[string][]store.Lease {
	loc := e.cl.node.Location
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string][]store.Lease{}
	for id, en := range e.monitors {
		l := en.locations()
		if l == nil {
			out[""] = append(out[""], store.Lease{MonitorID: id})
			continue
		}
		if loc == "" || (len(l.At) > 0 && !slices.Contains(l.At, loc)) {
			continue
		}
		out[loc] = append(out[loc], store.Lease{MonitorID: id, Location: loc})
	}
	for _, us := range out {
		sort.Slice(us, func(a, b int) bool { return us[a].MonitorID < us[b].MonitorID })
	}
	return out
}

// adopt starts testing a monitor whose lease was just taken or handed
// over: its status is read afresh (another node tested it until now), and
// its next test keeps the monitor's place in its interval, after its last
// test wherever it ran (for a K-of-N location, that location's last test).
// Its settings are those loaded already (kept fresh by the watch for
// changes), its status lc's (nil: read alone).
func (e *Engine) adopt(ctx context.Context, l store.Lease, lc *loadCache) error {
	e.cl.mu.Lock()
	e.cl.held[l.MonitorID] = l
	delete(e.cl.releasing, l.MonitorID)
	e.cl.mu.Unlock()
	e.mu.Lock()
	en := e.monitors[l.MonitorID]
	e.mu.Unlock()
	if en == nil { // created since the last watch: load it (and schedule it)
		return e.reload(ctx, l.MonitorID, startWindow(1))
	}
	st, err := lc.status(ctx, e.o.Store, l.MonitorID)
	var prev state.Status
	switch {
	case err == nil:
		prev = st.Status
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	e.mu.Lock()
	e.status[l.MonitorID] = prev
	e.mu.Unlock()
	if !en.m.Enabled {
		e.sched.Remove(l.MonitorID)
		e.record(ctx, en, nil) // shows as Disabled
		return nil
	}
	now := e.o.Now()
	iv := e.interval(en, prev.State)
	var due time.Time
	if st == nil { // never tested
		due = schedule.Spread(l.MonitorID, min(iv, startWindow(1)), now)
	} else {
		last := st.LastTest
		if l.Location != "" {
			// The status's time is the last verdict's; this location's
			// own last test sets its pace.
			rs, err := e.o.Store.LatestResults(ctx, l.MonitorID, now.Add(-2*iv))
			if err != nil {
				return err
			}
			for _, r := range rs {
				if r.Location == l.Location {
					last = r.Time
				}
			}
		}
		due = schedule.Next(l.MonitorID, last, iv)
		if due.Before(now) {
			due = schedule.Spread(l.MonitorID, min(iv, e.cl.round()), now)
		}
		if due.After(now.Add(iv)) { // a clock ahead of ours
			due = now.Add(iv)
		}
	}
	e.sched.Add(l.MonitorID, due, en.spec.Timing.MaxDuration.D()+5*time.Second)
	return nil
}

// adoptAll adopts ls, their statuses read a page at a time. One query a
// lease made a take-over as slow as the database times the leases: each
// was scheduled only once those before it were read, and the last ones
// were tested that much late (in the cluster test on two loaded cores,
// 50 leases took 0.1 to 0.2 s, 34 once 0.76 s; a node taking thousands
// of a dead one's would take seconds to minutes).
func (e *Engine) adoptAll(ctx context.Context, ls []store.Lease) error {
	for page := range slices.Chunk(ls, 500) {
		ids := make([]int64, len(page))
		for i, l := range page {
			ids[i] = l.MonitorID
		}
		sts, err := e.o.Store.Statuses(ctx, ids)
		if err != nil {
			return err
		}
		lc := &loadCache{statuses: sts}
		for _, l := range page {
			if err := e.adopt(ctx, l, lc); err != nil {
				return err
			}
		}
	}
	return nil
}

// reschedule schedules again the leases held but not scheduled: a drop,
// or a reload that found the monitor not held, racing with its adoption
// (the lease taken between its check and its unscheduling) left it
// untested while this node holds it, which no other node then tests
// either (a monitor untested for 40 s on a loaded machine).
func (e *Engine) reschedule(ctx context.Context) error {
	cl := e.cl
	cl.mu.Lock()
	held := slices.Collect(maps.Values(cl.held))
	cl.mu.Unlock()
	for _, l := range held {
		e.mu.Lock()
		en := e.monitors[l.MonitorID]
		e.mu.Unlock()
		if en == nil || !en.m.Enabled || e.sched.Has(l.MonitorID) {
			continue
		}
		if _, ok := cl.holds(l.MonitorID); !ok {
			continue // handed over or dropped meanwhile
		}
		e.o.Log.Warn("a monitor held but not scheduled is scheduled again", "monitor", l.MonitorID)
		if err := e.adopt(ctx, l, nil); err != nil {
			return err
		}
	}
	return nil
}

// giveUp stops testing a monitor over this node's share; its lease is
// released once no test of it runs.
func (e *Engine) giveUp(id int64) {
	e.cl.mu.Lock()
	if l, ok := e.cl.held[id]; ok {
		e.cl.releasing[id] = l
		delete(e.cl.held, id)
		delete(e.cl.handing, id)
	}
	e.cl.mu.Unlock()
	e.sched.Remove(id)
}

// drop forgets a lease at once, canceling a test of it in flight.
func (e *Engine) drop(id int64) {
	e.cl.mu.Lock()
	delete(e.cl.held, id)
	delete(e.cl.releasing, id)
	delete(e.cl.handing, id)
	if cancel, ok := e.cl.running[id]; ok {
		cancel()
	}
	e.cl.mu.Unlock()
	e.sched.Remove(id)
}

// dropAll forgets every lease (why, when not "", is logged).
func (e *Engine) dropAll(why string) {
	e.cl.mu.Lock()
	var ids []int64
	for id := range e.cl.held {
		ids = append(ids, id)
	}
	for id := range e.cl.releasing {
		ids = append(ids, id)
	}
	e.cl.mu.Unlock()
	if why != "" && len(ids) > 0 {
		e.o.Log.Warn("dropping every lease", "why", why, "leases", len(ids))
	}
	for _, id := range ids {
		e.drop(id)
	}
}
