package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/sasl"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// outbox delivers pending notifications. A notification is written in the
// same transaction as the state change that called for it, so a crash
// loses none; one is marked sent as soon as its action succeeded, so a
// restart resends at most the one in flight, with the same event id for
// the receiver to drop.
func (e *Engine) outbox(ctx context.Context) {
	tick := time.NewTicker(e.o.OutboxEvery)
	defer tick.Stop()
	for {
		e.deliverPending(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-e.wake:
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

func (e *Engine) deliverPending(ctx context.Context) {
	var pending []store.Notification
	var err error
	if e.cl != nil {
		// Claimed, so that no other node sends the same notification.
		pending, err = e.cl.c.ClaimNotifications(ctx, e.cl.node.ID, claimHold, 20)
	} else {
		pending, err = e.o.Store.PendingNotifications(ctx, 100)
	}
	if err != nil {
		e.o.Log.Error("reading the outbox failed", "err", err)
		return
	}
	now := e.o.Now()
	claimed := time.Now()
	var skipped []int64
	if e.cl != nil {
		defer func() {
			if err := e.cl.c.Unclaim(context.WithoutCancel(ctx), skipped); err != nil {
				e.o.Log.Warn("ending claims failed; they expire by themselves", "err", err)
			}
		}()
	}
	for _, n := range pending {
		if ctx.Err() != nil {
			return
		}
		if e.cl != nil && time.Since(claimed) > claimHold-deliverTimeout-5*time.Second {
			return // the claim could expire during the next delivery: leave the rest
		}
		if next, ok := e.retryAt[n.ID]; ok && now.Before(next) {
			continue // backing off
		}
		if !e.limiter.allow(n.AlertID, now) {
			// This action's rate is spent: the notification waits, it is
			// never dropped; another node may send it meanwhile.
			skipped = append(skipped, n.ID)
			continue
		}
		err := e.deliver(ctx, n)
		attempts := n.Attempts + 1
		status, msg := store.NotifySent, ""
		var perm *alert.Permanent
		switch {
		case err == nil:
		case errors.As(err, &perm) || attempts >= e.o.MaxAttempts:
			status, msg = store.NotifyFailed, err.Error()
		default:
			status, msg = store.NotifyPending, err.Error()
		}
		if err != nil {
			e.o.Log.Warn("alert delivery failed", "monitor", n.MonitorID, "alert", n.AlertID, "event", n.EventID, "attempt", attempts, "err", err)
		} else {
			e.o.Log.Info("alert delivered", "monitor", n.MonitorID, "alert", n.AlertID, "event", n.EventID, "attempt", attempts)
		}
		if status == store.NotifyPending {
			// 1 s, 2 s, 4 s … at most 5 min between attempts; a restart
			// tries again at once.
			e.retryAt[n.ID] = now.Add(min(time.Second<<min(attempts-1, 20), 5*time.Minute))
		} else {
			delete(e.retryAt, n.ID)
		}
		if err := e.o.Store.MarkNotification(ctx, n.ID, status, attempts, msg, e.o.Now()); err != nil {
			e.o.Log.Error("marking a notification failed", "id", n.ID, "err", err)
		}
	}
}

func (e *Engine) deliver(ctx context.Context, n store.Notification) error {
	var ev alert.Event
	if err := json.Unmarshal(n.Payload, &ev); err != nil {
		return &alert.Permanent{Err: err}
	}
	a, err := e.o.Store.Alert(ctx, n.AlertID)
	if err != nil {
		return &alert.Permanent{Err: fmt.Errorf("alert %d: %w", n.AlertID, err)}
	}
	nt, err := e.notifier(a)
	if err != nil {
		return &alert.Permanent{Err: err}
	}
	if c, ok := nt.(*alert.Command); ok {
		c.Secrets = append(c.Secrets, e.monitorSecrets(n.MonitorID)...)
	}
	ctx, cancel := context.WithTimeout(ctx, deliverTimeout)
	defer cancel()
	return nt.Notify(ctx, ev)
}

// notifier builds the action of an alert definition.
func (e *Engine) notifier(a *store.Alert) (alert.Notifier, error) {
	var spec config.Alert
	if err := json.Unmarshal(a.Spec, &spec); err != nil {
		return nil, err
	}
	switch {
	case spec.Webhook != nil:
		v, ok := a.Secrets["webhook.url"]
		if !ok {
			return nil, fmt.Errorf("alert %q: the webhook's URL is not set", a.Name)
		}
		u, err := e.open(v, vault.AlertRecord(a.ID, "webhook.url"))
		if err != nil {
			return nil, err
		}
		w := &alert.Webhook{URL: u, Format: spec.Webhook.Format}
		if a.NetworkTarget { // a URL set over the network
			w.Egress, w.Resolver = e.o.Egress, e.o.Resolver
		}
		return w, nil
	case spec.Command != nil:
		return &alert.Command{Argv: spec.Command.Argv, Timeout: spec.Command.Timeout.D(), Secrets: e.alertSecrets(a)}, nil
	case spec.Email != nil:
		em := spec.Email
		relay := config.Monitor{SMTP: &em.Relay}
		cfg := *relay.ProbeConfig(em.Relay.Host).SMTP
		if v, ok := a.Secrets["relay.password"]; ok {
			pw, err := e.open(v, vault.AlertRecord(a.ID, "relay.password"))
			if err != nil {
				return nil, err
			}
			cfg.Password = probeSecret(pw)
		}
		cfg.OAuthToken = sasl.TokenSource{}
		if a.NetworkTarget { // a relay set over the network
			cfg.Egress, cfg.Resolver = e.o.Egress, e.o.Resolver
		}
		from := em.From
		if from == "" {
			from = em.Relay.User
		}
		return &alert.Email{Relay: cfg, From: from, To: em.To, Subject: em.Subject, Body: em.Body}, nil
	}
	return nil, fmt.Errorf("alert %q has no action", a.Name)
}

// limiter rate-limits each alert action with a token bucket: a burst of
// AlertBurst, then one notification every AlertEvery. Over the limit,
// notifications wait in the outbox; none is dropped, so no recovery notice
// is lost. It belongs to the outbox goroutine.
type limiter struct {
	every   time.Duration
	burst   float64
	buckets map[int64]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func (l *limiter) allow(alertID int64, now time.Time) bool {
	b, ok := l.buckets[alertID]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[alertID] = b
	}
	b.tokens = min(l.burst, b.tokens+float64(now.Sub(b.last))/float64(l.every))
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
