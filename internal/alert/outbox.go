package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// The outbox delivers the notifications waiting in the store. A
// notification is written in the same transaction as the state change that
// called for it (Notifications makes them), so a crash loses none; one is
// marked sent as soon as its action succeeded, so a restart resends at most
// the one in flight, with the same event id for the receiver to drop (a
// mark the store does not take is written again, never sent again). On
// several nodes each notification is claimed by the node that delivers it;
// a claim holds while that node's heartbeat does, so a node that dies
// leaves its claims to the others on the lease schedule. Everything about
// when a notification goes out (claims, retries and their back-off, the
// rate of each action, the order) is decided here.
//
// Order: a notification is not delivered once a later one of the same
// monitor to the same action was (its recovery, say): it is marked
// superseded, since sent now it would tell an old state as news. One that
// goes out after a failed attempt, or after a crash that may have caught
// its send (several nodes: the send had begun, BeginNotification), is
// marked a late resend, with the time it happened. A delivery's mark is
// written only while this node holds the claim: the outcome is the
// deliverer's.

// OutboxOptions configure an outbox.
type OutboxOptions struct {
	// Store holds the outbox, the alert definitions and the alert log.
	Store store.Store
	// Claims, when set (several nodes on PostgreSQL), is where Node
	// claims the notifications it delivers, so that no other node sends
	// them too.
	Claims store.Cluster
	Node   string
	// Alive, with Claims, says whether Node's heartbeat has life enough
	// left to start a delivery: a claim holds only while the heartbeat
	// does, so a node whose heartbeat lapses (a loaded machine, a slow
	// database) gives its claims back rather than send what another node
	// may be sending. Nil: always.
	Alive func() bool
	// Actions builds each alert's action.
	Actions *Actions
	// Every is how often pending notifications are looked for (default
	// 1 s); each is tried at most MaxAttempts times (default 12, with
	// back-off: about an hour).
	Every       time.Duration
	MaxAttempts int
	// Burst notifications may go to one alert action at once, then one
	// every Rate (defaults 20 and 3 s: a storm of failures does not flood
	// a pager).
	Burst int
	Rate  time.Duration
	// PerAction deliveries may be under way at once to one action
	// (default 2), each to another monitor; each action has its own, so
	// a receiver that never answers delays no other action.
	PerAction int
	Log       *slog.Logger
	Now       func() time.Time
}

// Outbox delivers notifications; Run runs it.
type Outbox struct {
	o    OutboxOptions
	wake chan struct{}
	wg   sync.WaitGroup // deliveries under way

	started  time.Time // a notification from before was pending at a restart
	reposted time.Time // when Run last looked for alerts to post again (repost.go)

	mu      sync.Mutex
	queues  map[int64]*actionQueue // by alert action
	queued  map[int64]time.Time    // notifications waiting or under way, and when they were claimed
	retryAt map[int64]retryAt      // back-off, by notification
	// round counts the reads of the outbox; finished holds the round in
	// which each notification's delivery ended, while a read begun before
	// may still hand it as pending (it is not delivered twice).
	round    uint64
	finished map[int64]uint64
	// unmarked are the marks of delivery attempts that the store did not
	// take (a database briefly away), written again each round (remark):
	// until then their notifications are not delivered again.
	unmarked map[int64]mark

	tests tests // test alerts' rate limit (test.go), any goroutine's
}

// NewOutbox makes an outbox.
func NewOutbox(o OutboxOptions) *Outbox {
	if o.Every <= 0 {
		o.Every = time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 12
	}
	if o.Burst <= 0 {
		o.Burst = 20
	}
	if o.Rate <= 0 {
		o.Rate = 3 * time.Second
	}
	if o.PerAction <= 0 {
		o.PerAction = 2
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Actions == nil {
		o.Actions = &Actions{}
	}
	return &Outbox{o: o, wake: make(chan struct{}, 1), started: o.Now(), queues: map[int64]*actionQueue{},
		queued: map[int64]time.Time{}, retryAt: map[int64]retryAt{}, finished: map[int64]uint64{}, unmarked: map[int64]mark{}}
}

// Wake makes Run look for pending notifications now (new ones were
// stored), without waiting for its next round. It never blocks.
func (ob *Outbox) Wake() {
	select {
	case ob.wake <- struct{}{}:
	default:
	}
}

// Run delivers pending notifications every Every, and when woken, until
// ctx ends; it returns once the deliveries under way have ended.
func (ob *Outbox) Run(ctx context.Context) {
	defer ob.wg.Wait()
	tick := time.NewTicker(ob.o.Every)
	defer tick.Stop()
	for {
		ob.repost(ctx)
		ob.deliverPending(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-ob.wake:
		}
	}
}

// claimHold is how long a node claims the notifications it delivers (on
// several nodes): it delivers them within deliverTimeout of less than that,
// and another node takes over those it left (a crash) after it.
const (
	claimHold      = 2 * time.Minute
	deliverTimeout = time.Minute
)

// pending takes the notifications to deliver now: on several nodes, those
// it claimed, so that no other node sends the same notification.
func (ob *Outbox) pending(ctx context.Context) ([]store.Notification, error) {
	if ob.o.Claims != nil {
		return ob.o.Claims.ClaimNotifications(ctx, ob.o.Node, claimHold, 20)
	}
	return ob.o.Store.PendingNotifications(ctx, 100)
}

// deliverPending queues the pending notifications not queued yet, each to
// its action, and starts what each action may deliver now.
func (ob *Outbox) deliverPending(ctx context.Context) {
	ob.remark(ctx)
	ob.mu.Lock()
	ob.round++
	round := ob.round
	ob.mu.Unlock()
	pending, err := ob.pending(ctx)
	if err != nil {
		ob.o.Log.Error("reading the outbox failed", "err", err)
		return
	}
	claimed := time.Now()
	ob.mu.Lock()
	for _, n := range pending {
		if _, ok := ob.queued[n.ID]; ok {
			continue // waiting or under way already
		}
		if r, ok := ob.finished[n.ID]; ok && r >= round {
			continue // read before its delivery ended
		}
		if _, ok := ob.unmarked[n.ID]; ok {
			continue // delivered, its mark not written yet
		}
		ob.queued[n.ID] = claimed
		ob.queue(n.AlertID).add(n)
	}
	for id, r := range ob.finished {
		if r < round {
			delete(ob.finished, id) // later reads see how it ended
		}
	}
	for id, r := range ob.retryAt {
		if ob.o.Now().Sub(r.at) > claimHold+time.Minute {
			delete(ob.retryAt, id) // another node took it over
		}
	}
	var skipped []int64
	for _, q := range ob.queues {
		skipped = append(skipped, ob.start(ctx, q)...)
	}
	ob.mu.Unlock()
	ob.unclaim(ctx, skipped)
}

// unclaim ends this node's claims on notifications it leaves for now (on
// several nodes), so that another node may send them meanwhile.
func (ob *Outbox) unclaim(ctx context.Context, ids []int64) {
	if ob.o.Claims == nil || len(ids) == 0 {
		return
	}
	if err := ob.o.Claims.Unclaim(context.WithoutCancel(ctx), ob.o.Node, ids); err != nil {
		ob.o.Log.Warn("ending claims failed; they expire by themselves", "err", err)
	}
}

// start begins the deliveries q may make now, each in its own goroutine:
// at most PerAction at once, one per monitor at a time (a monitor's
// notifications keep their order), none of a notification backing off or
// over the action's rate. It returns the notifications it dropped from
// the queue that this node had claimed, for their claims to end. ob.mu
// is held.
func (ob *Outbox) start(ctx context.Context, q *actionQueue) (dropped []int64) {
	now := ob.o.Now()
	keep := q.waiting[:0]
	for _, n := range q.waiting {
		drop := false
		switch {
		case ctx.Err() != nil:
			drop = true
		case ob.o.Claims != nil && time.Since(ob.queued[n.ID]) > claimHold-deliverTimeout-5*time.Second:
			drop = true // the claim could expire during the delivery: leave it
		case ob.o.Claims != nil && ob.o.Alive != nil && !ob.o.Alive():
			// Another node may take these claims any moment now: give
			// them back, sent by whoever claims them next.
			ob.o.Log.Warn("an alert left to the other nodes: this node's heartbeat is late", "alert", n.AlertID, "event", n.EventID)
			drop = true
		case now.Before(ob.retryAt[n.ID].at):
			// Backing off, or held for its action's hours: the store
			// hands it again when due. A held one keeps this node's
			// claim until the claim expires (several nodes): others do
			// not take it up every round only to hold it too.
			delete(ob.queued, n.ID)
			if !ob.retryAt[n.ID].held {
				dropped = append(dropped, n.ID)
			}
			continue
		case len(q.busy) >= ob.o.PerAction || q.busy[n.MonitorID]:
			keep = append(keep, n) // its turn comes when one under way ends
			continue
		case !q.limiter.AllowN(now, 1):
			// This action's rate is spent: the notification waits, it is
			// never dropped; another node may send it meanwhile.
			drop = true
		}
		if drop {
			delete(ob.queued, n.ID)
			dropped = append(dropped, n.ID)
			continue
		}
		q.busy[n.MonitorID] = true
		ob.wg.Add(1)
		go func() {
			defer ob.wg.Done()
			msg, retry, tried := ob.attempt(ctx, n)
			ob.mu.Lock()
			// What it did, and that it is done, are seen at once.
			if tried {
				q.health.record(ob.o.Now(), msg)
			}
			switch {
			case !retry.IsZero():
				ob.retryAt[n.ID] = retryAt{alert: n.AlertID, at: retry, held: !tried}
			default:
				delete(ob.retryAt, n.ID)
			}
			delete(q.busy, n.MonitorID)
			delete(ob.queued, n.ID)
			ob.finished[n.ID] = ob.round
			skipped := ob.start(ctx, q)
			ob.mu.Unlock()
			ob.unclaim(ctx, skipped)
		}()
	}
	clear(q.waiting[len(keep):])
	q.waiting = keep
	return dropped
}

// attempt delivers one notification and writes down how it went: sent,
// failed for good, or pending again (retry: when; zero: not) after a
// back-off; msg is its error, "" when it went out. One that a later
// notification of the monitor to the same action overtook is not tried
// (tried false): it is marked superseded; nor is one raised outside its
// action's hours: dropped, or held (retry: when they begin). A delivery begun runs to its end (or deliverTimeout) and is
// written down even when ctx ends meanwhile (a daemon stopping): cut off,
// the receiver might have it while the outbox does not know, and the next
// start would send it again.
func (ob *Outbox) attempt(ctx context.Context, n store.Notification) (msg string, retry time.Time, tried bool) {
	ctx = context.WithoutCancel(ctx)
	if later, err := ob.o.Store.LaterSent(ctx, n.MonitorID, n.AlertID, n.ID); err != nil {
		ob.o.Log.Error("reading the outbox failed", "err", err)
		return "", time.Time{}, false // tried again on the next read
	} else if later {
		ob.supersede(ctx, n)
		return "", time.Time{}, false
	}
	err := ob.deliver(ctx, n)
	if out := (*outsideHours)(nil); errors.As(err, &out) {
		return "", ob.outside(ctx, n, out), false
	}
	if nb := (*notBegun)(nil); errors.As(err, &nb) {
		// Not sent: its claim moved (another node delivers it), or the
		// store did not say the send begins (then the claim is given
		// back, for whoever claims it next to send it, not late).
		ob.o.Log.Warn("an alert not sent: its claim could not be confirmed", "alert", n.AlertID, "event", n.EventID, "err", nb.err)
		if !errors.Is(nb.err, store.ErrNotClaimed) {
			ob.unclaim(ctx, []int64{n.ID})
		}
		return "", time.Time{}, false
	}
	attempts := n.Attempts + 1
	status := store.NotifySent
	var perm *Permanent
	switch {
	case err == nil:
	case errors.As(err, &perm) || attempts >= ob.o.MaxAttempts:
		status, msg = store.NotifyFailed, err.Error()
	default:
		status, msg = store.NotifyPending, err.Error()
	}
	if err != nil {
		ob.o.Log.Warn("alert delivery failed", "monitor", n.MonitorID, "alert", n.AlertID, "event", n.EventID, "attempt", attempts, "err", err)
	} else {
		ob.o.Log.Info("alert delivered", "monitor", n.MonitorID, "alert", n.AlertID, "event", n.EventID, "attempt", attempts, "late_resend", ob.late(n))
	}
	ob.mark(ctx, n.ID, mark{status: status, attempts: attempts, msg: msg, at: ob.o.Now()})
	if status == store.NotifyPending {
		// About 1 s, 2 s, 4 s … at most 5 min between attempts
		// (backoff); a restart tries again at once.
		retry = ob.o.Now().Add(backoff(attempts))
	}
	return msg, retry, true
}

// mark is what a delivery attempt writes down about its notification.
type mark struct {
	status, msg string
	attempts    int
	at          time.Time
}

// markNode is the node whose claim a mark needs (several nodes), "" on
// one node (no claims).
func (ob *Outbox) markNode() string {
	if ob.o.Claims == nil {
		return ""
	}
	return ob.o.Node
}

// writeMark writes m down for notification id, while this node still
// holds its claim (several nodes). A mark refused because another node
// took the claim over (this node's heartbeat lapsed during the attempt)
// is logged and dropped, not an error: the outcome is that node's, and a
// "pending" written over its "sent" would bring a third delivery.
func (ob *Outbox) writeMark(ctx context.Context, id int64, m mark) error {
	err := ob.o.Store.MarkNotification(ctx, id, ob.markNode(), m.status, m.attempts, m.msg, m.at)
	if errors.Is(err, store.ErrNotClaimed) {
		ob.o.Log.Warn("a notification's mark not written: another node took it over, its outcome stands", "id", id, "status", m.status)
		return nil
	}
	return err
}

// mark writes m down for notification id; when the store fails, m is kept
// for remark, so that a notification delivered is not read as pending and
// delivered again (not marked a late resend) at the next round.
func (ob *Outbox) mark(ctx context.Context, id int64, m mark) {
	if err := ob.writeMark(ctx, id, m); err != nil {
		ob.o.Log.Error("marking a notification failed; written again at the next round", "id", id, "err", err)
		ob.mu.Lock()
		ob.unmarked[id] = m
		ob.mu.Unlock()
	}
}

// remark writes again the marks the store did not take (those whose
// claim moved meanwhile are dropped: writeMark).
func (ob *Outbox) remark(ctx context.Context) {
	ob.mu.Lock()
	marks := maps.Clone(ob.unmarked)
	ob.mu.Unlock()
	for id, m := range marks {
		if err := ob.writeMark(ctx, id, m); err != nil {
			ob.o.Log.Warn("marking a notification failed again", "id", id, "err", err)
			continue
		}
		ob.mu.Lock()
		delete(ob.unmarked, id)
		ob.mu.Unlock()
	}
}

// outside holds notification n, raised outside its action's hours, until
// they begin (returned), or marks it dropped (zero returned).
func (ob *Outbox) outside(ctx context.Context, n store.Notification, out *outsideHours) time.Time {
	if !out.until.IsZero() {
		ob.o.Log.Info("alert held for its action's hours", "monitor", n.MonitorID, "alert", n.AlertID, "event", n.EventID, "until", out.until)
		return out.until
	}
	ob.o.Log.Info("alert not delivered: raised outside its action's hours", "monitor", n.MonitorID, "alert", n.AlertID, "event", n.EventID)
	if err := ob.writeMark(ctx, n.ID, mark{status: store.NotifyDropped, attempts: n.Attempts, msg: out.Error(), at: ob.o.Now()}); err != nil {
		ob.o.Log.Error("marking a notification failed", "id", n.ID, "err", err)
	}
	return time.Time{}
}

// supersede marks a notification that a later one of the same monitor to
// the same action overtook: it is not sent.
func (ob *Outbox) supersede(ctx context.Context, n store.Notification) {
	ob.o.Log.Info("alert not delivered: a later one of the monitor to the same action was delivered first",
		"monitor", n.MonitorID, "alert", n.AlertID, "event", n.EventID)
	if err := ob.writeMark(ctx, n.ID, mark{status: store.NotifySuperseded, attempts: n.Attempts,
		msg: "a later notification of this monitor to this action was delivered first", at: ob.o.Now()}); err != nil {
		ob.o.Log.Error("marking a notification failed", "id", n.ID, "err", err)
	}
}

// late reports whether n goes out as a late resend: a node (this one,
// before a restart, or another) began to send it and did not finish with
// it, or an attempt failed.
func (ob *Outbox) late(n store.Notification) bool {
	if n.Attempts > 0 || n.Reclaimed {
		return true
	}
	// On one node, pending since before this start: the crash or restart
	// may have caught it in flight. (Claims tell this on several.)
	return ob.o.Claims == nil && n.Created.Before(ob.started)
}

// notBegun: a send not begun, because the store did not take its
// BeginNotification (err).
type notBegun struct{ err error }

func (e *notBegun) Error() string { return "the send could not begin: " + e.err.Error() }

func (ob *Outbox) deliver(ctx context.Context, n store.Notification) error {
	var ev Event
	if err := json.Unmarshal(n.Payload, &ev); err != nil {
		return &Permanent{Err: err}
	}
	ev.Late = ob.late(n)
	a, err := ob.o.Store.Alert(ctx, n.AlertID)
	if err != nil {
		return &Permanent{Err: fmt.Errorf("alert %d: %w", n.AlertID, err)}
	}
	ob.mu.Lock()
	ob.queue(a.ID).name = a.Name
	ob.mu.Unlock()
	if out := outside(a, n, ob.o.Now()); out != nil {
		return out
	}
	nt, err := ob.o.Actions.Notifier(a, n.MonitorID)
	if err != nil {
		return &Permanent{Err: err}
	}
	if ob.o.Claims != nil {
		// Written before the send: a node that takes the claim over after
		// this (this node died, or its attempt failed) sends it as a late
		// resend; one that takes over a claim lapsed before (held for the
		// action's hours, this node killed first) sends it on time.
		if err := ob.o.Claims.BeginNotification(ctx, ob.o.Node, n.ID); err != nil {
			return &notBegun{err: err}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, deliverTimeout)
	defer cancel()
	return nt.Notify(ctx, ev)
}

// Notifications are the outbox's entries for ev, one for each of the
// alert actions alerts, to be stored with the state change that called
// for them. Each has its own event id: the monitor, the start of the
// outage (since), the alert's number in it (seq) and the action. ackURL,
// when set, is each action's acknowledgement link (an alert's).
func Notifications(ev Event, since time.Time, seq int, alerts []int64, ackURL func(alert int64) string) []store.Notification {
	return notifications(ev, EventID(ev.MonitorID, ev.Kind, since, seq), alerts, ackURL)
}

// Escalations are the outbox's entries for the escalation of the outage
// that began at outage: failure alert ev, to the actions alerts that the
// outage's length calls in. Their event ids hold the outage's start, so
// that the escalation is stored once per outage and action, whichever
// node or test stores it. ackURL is as for Notifications.
func Escalations(ev Event, outage time.Time, alerts []int64, ackURL func(alert int64) string) []store.Notification {
	ev.Escalated = true
	return notifications(ev, EventID(ev.MonitorID, "escalation", outage, 0), alerts, ackURL)
}

func notifications(ev Event, id string, alerts []int64, ackURL func(alert int64) string) []store.Notification {
	var out []store.Notification
	for _, a := range alerts {
		ev.ID = fmt.Sprintf("%s-%d", id, a)
		if ackURL != nil {
			ev.AckURL = ackURL(a)
		}
		payload, _ := json.Marshal(ev)
		out = append(out, store.Notification{EventID: ev.ID, MonitorID: ev.MonitorID, AlertID: a, Kind: ev.Kind, Payload: payload, Created: ev.Time})
	}
	return out
}
