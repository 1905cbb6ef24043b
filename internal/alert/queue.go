package alert

import (
	"math/rand/v2"
	"sort"
	"time"

	"golang.org/x/time/rate"

	"github.com/mailmon/mailmon/internal/store"
)

// actionQueue is one alert action's share of the outbox: the
// notifications waiting for it, those under way (one per monitor), its
// rate and its health. Each action has its own, so that a receiver that
// never answers holds its own notifications only. Guarded by Outbox.mu.
type actionQueue struct {
	id      int64
	name    string
	waiting []store.Notification // in the outbox's order
	busy    map[int64]bool       // monitors with a delivery under way
	// limiter rate-limits the action with a token bucket
	// (golang.org/x/time/rate): a burst, then one notification every
	// Rate. Over the limit, notifications wait in the outbox; none is
	// dropped, so no recovery notice is lost.
	limiter *rate.Limiter
	health  ActionHealth
}

// retryAt is when a notification that failed is tried again.
type retryAt struct {
	alert int64
	at    time.Time
	held  bool // for its action's hours, not after a failure
}

// queue returns alert id's queue, made on first use. ob.mu is held.
func (ob *Outbox) queue(id int64) *actionQueue {
	q, ok := ob.queues[id]
	if !ok {
		q = &actionQueue{id: id, busy: map[int64]bool{}, limiter: rate.NewLimiter(rate.Every(ob.o.Rate), ob.o.Burst),
			health: ActionHealth{AlertID: id}}
		ob.queues[id] = q
	}
	return q
}

func (q *actionQueue) add(n store.Notification) { q.waiting = append(q.waiting, n) }

// backoff is the wait after attempt number attempts failed: 1 s, 2 s, 4 s …
// at most 5 min, each between half and one and a half times that (jitter:
// the retries of a storm spread out instead of hitting a receiver that
// comes back all at once).
func backoff(attempts int) time.Duration {
	d := min(time.Second<<min(attempts-1, 20), 5*time.Minute)
	return d/2 + rand.N(d)
}

// ActionHealth is how an alert action's deliveries from this node go.
type ActionHealth struct {
	AlertID     int64
	Name        string
	LastSuccess time.Time // zero: none since the daemon started
	LastError   string    // of the last failed attempt, as stored in the alert log
	LastErrorAt time.Time
	Sent        int // deliveries that succeeded since the daemon started
	Failed      int // attempts that failed
	// Queued are the notifications waiting, under way or backing off
	// here; Busy those under way.
	Queued int
	Busy   int
}

// record notes an attempt's outcome: msg is its error, "" when it
// succeeded.
func (h *ActionHealth) record(at time.Time, msg string) {
	if msg == "" {
		h.LastSuccess = at
		h.Sent++
		return
	}
	h.LastError, h.LastErrorAt = msg, at
	h.Failed++
}

// Health reports each alert action this outbox has delivered to or holds
// notifications for, by alert id.
func (ob *Outbox) Health() []ActionHealth {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	backingOff := map[int64]int{}
	for id, r := range ob.retryAt {
		if _, ok := ob.queued[id]; !ok {
			backingOff[r.alert]++
		}
	}
	out := make([]ActionHealth, 0, len(ob.queues))
	for _, q := range ob.queues {
		h := q.health
		h.Name = q.name
		h.Busy = len(q.busy)
		h.Queued = len(q.waiting) + len(q.busy) + backingOff[q.id]
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AlertID < out[j].AlertID })
	return out
}
