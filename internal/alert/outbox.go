package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// The outbox delivers the notifications waiting in the store. A
// notification is written in the same transaction as the state change that
// called for it (Notifications makes them), so a crash loses none; one is
// marked sent as soon as its action succeeded, so a restart resends at most
// the one in flight, with the same event id for the receiver to drop. On
// several nodes each notification is claimed by the node that delivers it,
// and a node that dies leaves its claims to the others once they expire.
// Everything about when a notification goes out (claims, retries and their
// back-off, the rate of each action, the order) is decided here.

// OutboxOptions configure an outbox.
type OutboxOptions struct {
	// Store holds the outbox, the alert definitions and the alert log.
	Store store.Store
	// Claims, when set (several nodes on PostgreSQL), is where Node
	// claims the notifications it delivers, so that no other node sends
	// them too.
	Claims store.Cluster
	Node   string
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
	Log   *slog.Logger
	Now   func() time.Time
}

// Outbox delivers notifications; Run runs it.
type Outbox struct {
	o    OutboxOptions
	wake chan struct{}

	// The Run goroutine's own:
	retryAt map[int64]time.Time // back-off, by notification
	limiter *limiter
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
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Actions == nil {
		o.Actions = &Actions{}
	}
	return &Outbox{o: o, wake: make(chan struct{}, 1), retryAt: map[int64]time.Time{}, limiter: newLimiter(o.Rate, o.Burst)}
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
// ctx ends.
func (ob *Outbox) Run(ctx context.Context) {
	tick := time.NewTicker(ob.o.Every)
	defer tick.Stop()
	for {
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

func (ob *Outbox) deliverPending(ctx context.Context) {
	pending, err := ob.pending(ctx)
	if err != nil {
		ob.o.Log.Error("reading the outbox failed", "err", err)
		return
	}
	now := ob.o.Now()
	claimed := time.Now()
	var skipped []int64
	if ob.o.Claims != nil {
		defer func() {
			if err := ob.o.Claims.Unclaim(context.WithoutCancel(ctx), skipped); err != nil {
				ob.o.Log.Warn("ending claims failed; they expire by themselves", "err", err)
			}
		}()
	}
	for _, n := range pending {
		if ctx.Err() != nil {
			return
		}
		if ob.o.Claims != nil && time.Since(claimed) > claimHold-deliverTimeout-5*time.Second {
			return // the claim could expire during the next delivery: leave the rest
		}
		if next, ok := ob.retryAt[n.ID]; ok && now.Before(next) {
			continue // backing off
		}
		if !ob.limiter.allow(n.AlertID, now) {
			// This action's rate is spent: the notification waits, it is
			// never dropped; another node may send it meanwhile.
			skipped = append(skipped, n.ID)
			continue
		}
		ob.attempt(ctx, n, now)
	}
}

// attempt delivers one notification and writes down how it went: sent,
// failed for good, or pending again after a back-off. A delivery begun
// runs to its end (or deliverTimeout) and is written down even when ctx
// ends meanwhile (a daemon stopping): cut off, the receiver might have it
// while the outbox does not know, and the next start would send it again.
func (ob *Outbox) attempt(ctx context.Context, n store.Notification, now time.Time) {
	ctx = context.WithoutCancel(ctx)
	err := ob.deliver(ctx, n)
	attempts := n.Attempts + 1
	status, msg := store.NotifySent, ""
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
		ob.o.Log.Info("alert delivered", "monitor", n.MonitorID, "alert", n.AlertID, "event", n.EventID, "attempt", attempts)
	}
	if status == store.NotifyPending {
		// 1 s, 2 s, 4 s … at most 5 min between attempts; a restart
		// tries again at once.
		ob.retryAt[n.ID] = now.Add(min(time.Second<<min(attempts-1, 20), 5*time.Minute))
	} else {
		delete(ob.retryAt, n.ID)
	}
	if err := ob.o.Store.MarkNotification(ctx, n.ID, status, attempts, msg, ob.o.Now()); err != nil {
		ob.o.Log.Error("marking a notification failed", "id", n.ID, "err", err)
	}
}

func (ob *Outbox) deliver(ctx context.Context, n store.Notification) error {
	var ev Event
	if err := json.Unmarshal(n.Payload, &ev); err != nil {
		return &Permanent{Err: err}
	}
	a, err := ob.o.Store.Alert(ctx, n.AlertID)
	if err != nil {
		return &Permanent{Err: fmt.Errorf("alert %d: %w", n.AlertID, err)}
	}
	nt, err := ob.o.Actions.Notifier(a, n.MonitorID)
	if err != nil {
		return &Permanent{Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, deliverTimeout)
	defer cancel()
	return nt.Notify(ctx, ev)
}

// Notifications are the outbox's entries for ev, one for each of the
// alert actions alerts, to be stored with the state change that called
// for them. Each has its own event id: the monitor, the start of the
// outage (since), the alert's number in it (seq) and the action.
func Notifications(ev Event, since time.Time, seq int, alerts []int64) []store.Notification {
	var out []store.Notification
	for _, a := range alerts {
		ev.ID = fmt.Sprintf("%s-%d", EventID(ev.MonitorID, ev.Kind, since, seq), a)
		payload, _ := json.Marshal(ev)
		out = append(out, store.Notification{EventID: ev.ID, MonitorID: ev.MonitorID, AlertID: a, Kind: ev.Kind, Payload: payload, Created: ev.Time})
	}
	return out
}
