package alert

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/mailmon/mailmon/internal/store"
)

// KindTest is the kind of a test alert's event: a person asked for it
// (the alert form's "Send test alert", POST /api/v1/alerts/{id}/test); no
// monitor is failing.
const KindTest = "test"

// TestEvent is the event a test alert sends: marked as a test in every
// format (the generic payload's "event", the subject and text).
func TestEvent(a *store.Alert, now time.Time) Event {
	return Event{
		ID:      fmt.Sprintf("test-%d-%d", a.ID, now.UnixNano()),
		Kind:    KindTest,
		Monitor: "test alert " + a.Name,
		Device:  "mailmon",
		Type:    "test",
		State:   "test",
		Code:    "test",
		Message: "this is a test of the alert " + a.Name + ", sent from mailmon on request: no monitor is failing",
		Time:    now.UTC(),
	}
}

// ErrTestTooSoon: a test alert of the same action was sent moments ago.
var ErrTestTooSoon = errors.New("a test alert of this action was sent moments ago: wait a few seconds")

// TestEvery is how often one alert action may send a test alert (a burst
// of two, then one every TestEvery): a button pressed in a loop must not
// flood a pager.
const TestEvery = 10 * time.Second

// tests rate-limits test alerts, by alert; shared by the UI and the API.
type tests struct {
	mu      sync.Mutex
	byAlert map[int64]*rate.Limiter
}

func (t *tests) allow(id int64, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byAlert == nil {
		t.byAlert = map[int64]*rate.Limiter{}
	}
	l, ok := t.byAlert[id]
	if !ok {
		l = rate.NewLimiter(rate.Every(TestEvery), 2)
		t.byAlert[id] = l
	}
	return l.AllowN(now, 1)
}

// Test sends a test alert through alert a's action now, the way every
// notification goes (Actions.Notifier), and says how it went. It is not
// stored in the outbox: nothing retries it, the person who asked sees the
// outcome.
func (ob *Outbox) Test(ctx context.Context, a *store.Alert) error {
	now := ob.o.Now()
	if !ob.tests.allow(a.ID, now) {
		return ErrTestTooSoon
	}
	nt, err := ob.o.Actions.Notifier(a, 0)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, deliverTimeout)
	defer cancel()
	if err := nt.Notify(ctx, TestEvent(a, now)); err != nil {
		return err
	}
	ob.o.Log.Info("test alert sent", "alert", a.Name)
	return nil
}
