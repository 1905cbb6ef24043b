package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mailmon/mailmon/internal/alert"
)

// A node's health, as /healthz and /readyz tell it: whether it reaches its
// database (checked every HealthEvery, and by every heartbeat), and, on
// several nodes, whether it holds the leases it should. While the database
// is away for OutageAfter, the node raises a local alert through the
// actions of Options.OutageAlerts, which need no database (a webhook or a
// command set on the host): once, then at most every OutageEvery, and
// once more when the database is back.

// Health is what /healthz and /readyz answer.
type Health struct {
	// Problems say why the node is not doing its job (none: healthy):
	// the database unreachable, no lease held of those it should hold.
	Problems []string
	// Ready: the node can serve requests (its database answers, and it
	// is not stopping); for load balancers.
	Ready bool
	// Database says why the database is unavailable ("" when it answers).
	Database string
}

// dbHealth is what the checks of the database found.
type dbHealth struct {
	mu      sync.Mutex
	checked bool      // any check yet
	down    time.Time // since when every check failed (zero: the last one worked)
	err     error     // the last failure
}

func (h *dbHealth) observe(err error, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checked = true
	switch {
	case err == nil:
		h.down, h.err = time.Time{}, nil
	case h.down.IsZero():
		h.down, h.err = now, err
	default:
		h.err = err
	}
}

// state is since when the database has been down (zero: it is up) and
// why.
func (h *dbHealth) state() (time.Time, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.down, h.err
}

// leaseHealth is what a node's lease rounds found.
type leaseHealth struct {
	start   time.Time // the first round
	last    time.Time // the last round that completed
	should  int       // its fair share, all classes
	held    int
	noneFor time.Time // since when it holds none of a share above zero
}

func (h *leaseHealth) round(now time.Time, should, held int) {
	if h.start.IsZero() {
		h.start = now
	}
	h.last, h.should, h.held = now, should, held
	switch {
	case should == 0 || held > 0:
		h.noneFor = time.Time{}
	case h.noneFor.IsZero():
		h.noneFor = now
	}
}

// Health reports the node's health now.
func (e *Engine) Health() Health {
	var h Health
	now := time.Now()
	down, err := e.health.state()
	h.Ready = down.IsZero()
	if !down.IsZero() {
		h.Database = fmt.Sprintf("the database is unreachable (for %v): %v", now.Sub(down).Round(time.Second), err)
		h.Problems = append(h.Problems, h.Database)
	}
	if e.cl != nil {
		cl := e.cl
		cl.mu.Lock()
		lh, alive, leaving := cl.health, cl.aliveUntil, cl.leaving
		cl.mu.Unlock()
		switch {
		case leaving:
			h.Ready = false
			h.Problems = append(h.Problems, "the node is stopping: it hands its monitors over")
		case now.After(alive):
			h.Problems = append(h.Problems, "the node's heartbeat is not renewed: it tests nothing, and the other nodes take its monitors")
		case !lh.noneFor.IsZero() && now.Sub(lh.noneFor) >= cl.lease:
			h.Problems = append(h.Problems, fmt.Sprintf("the node holds none of the %d monitors it should test (for %v)", lh.should, now.Sub(lh.noneFor).Round(time.Second)))
		case !lh.last.IsZero() && now.Sub(lh.last) > 2*cl.lease:
			h.Problems = append(h.Problems, fmt.Sprintf("the node's lease rounds have not completed for %v", now.Sub(lh.last).Round(time.Second)))
		}
	}
	return h
}

// checkHealth checks the database every HealthEvery until ctx ends, and
// raises the local alert of an outage.
func (e *Engine) checkHealth(ctx context.Context) {
	tick := time.NewTicker(e.o.HealthEvery)
	defer tick.Stop()
	var out outage
	for {
		pctx, cancel := context.WithTimeout(ctx, e.o.HealthEvery)
		err := e.o.Store.Ping(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		e.health.observe(err, time.Now())
		down, why := e.health.state()
		out.check(ctx, e, down, why, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// outage is the local alert of a database outage: the checkHealth loop's
// own.
type outage struct {
	since time.Time // the outage alerted (zero: none)
	next  time.Time // when it may alert again
}

func (o *outage) check(ctx context.Context, e *Engine, down time.Time, why error, now time.Time) {
	if len(e.o.OutageAlerts) == 0 {
		return
	}
	switch {
	case down.IsZero() && !o.since.IsZero():
		// Back: say so once (the recovery is not rate-limited away).
		if e.outageAlert(ctx, "recovery", o.since, now, nil) {
			o.since = time.Time{}
		}
	case down.IsZero(), now.Sub(down) < e.o.OutageAfter, now.Before(o.next):
	default:
		if o.since.IsZero() {
			o.since = down
		}
		if e.outageAlert(ctx, "alert", down, now, why) {
			o.next = now.Add(e.o.OutageEvery)
		} else {
			o.next = now.Add(min(time.Minute, e.o.OutageEvery)) // try again soon
		}
	}
}

// outageAlert sends the local alert of an outage that began at since to
// every action of Options.OutageAlerts; it reports whether one got it.
func (e *Engine) outageAlert(ctx context.Context, kind string, since, now time.Time, why error) bool {
	ev := alert.Event{
		ID:   fmt.Sprintf("%s-database-%s-%d-%d", e.o.Node.Name, kind, since.UnixMilli(), now.UnixMilli()),
		Kind: kind, Monitor: "database", Device: e.o.Node.Name, Type: "mailmon", State: "up", Time: now,
	}
	if kind == "alert" {
		ev.State, ev.Code = "down", "DB_UNAVAILABLE"
		ev.Message = fmt.Sprintf("mailmon cannot reach its database since %s: this node tests nothing", since.UTC().Format(time.RFC3339))
		if why != nil {
			ev.Detail = why.Error()
		}
	}
	ok := false
	for _, n := range e.o.OutageAlerts {
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := n.Notify(actx, ev)
		cancel()
		if err != nil {
			e.o.Log.Warn("the local alert of the database outage failed", "event", kind, "err", err)
			continue
		}
		ok = true
	}
	if ok {
		e.o.Log.Warn("local alert of the database outage sent", "event", kind, "since", since)
	}
	return ok
}
