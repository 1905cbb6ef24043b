package alert

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/testutil/sqlitetest"
)

// clockedOutbox is an outbox over f's store on a clock the test sets,
// run one round at a time (no Run loop, no sleeps).
type clockedOutbox struct {
	mu  sync.Mutex
	now time.Time
	ob  *Outbox
}

func newClockedOutbox(f *outboxFixture) *clockedOutbox {
	c := &clockedOutbox{}
	c.ob = NewOutbox(OutboxOptions{Store: f.st, Actions: &Actions{Vault: f.v}, Now: c.clock})
	return c
}

func (c *clockedOutbox) clock() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// round reads the outbox at now and waits for the deliveries it began.
func (c *clockedOutbox) round(now time.Time) {
	c.mu.Lock()
	c.now = now
	c.mu.Unlock()
	c.ob.deliverPending(context.Background())
	c.ob.wg.Wait()
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// scheduled sets the fixture's action's schedule: office hours in Berlin.
func scheduled(t *testing.T, f *outboxFixture, outside string) {
	t.Helper()
	ctx := context.Background()
	a, err := f.st.Alert(ctx, f.alert)
	must(t, err)
	a.Spec, _ = json.Marshal(config.Alert{Name: "ops", Webhook: &config.Webhook{}, Schedule: &config.Schedule{
		Zone: "Europe/Berlin", Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "08:00", To: "18:00", Outside: outside}})
	must(t, f.st.PutAlert(ctx, a))
}

func (f *outboxFixture) kinds() string {
	var out []string
	for _, p := range f.received() {
		out = append(out, p.Event+"@"+p.Time)
	}
	return strings.Join(out, " ")
}

func newScheduleFixture(t *testing.T) *outboxFixture {
	return newOutboxFixture(t, sqlitetest.Open(t))
}

// TestScheduleDropsOutsideHours: an action on office hours (Berlin,
// Monday to Friday 08:00–18:00) is told what was raised within them, on
// either side of the change to summer time, and not what was raised
// outside: the alert log says it was dropped and why. A recovery follows
// the same rule. Raised within and retried later, it still goes.
func TestScheduleDropsOutsideHours(t *testing.T) {
	f := newScheduleFixture(t)
	scheduled(t, f, "")
	c := newClockedOutbox(f)
	f.event(t, "alert", at("2026-03-27T07:00:00Z"), 1) // Friday 08:00 CET: inside
	c.round(at("2026-03-27T07:00:01Z"))
	f.event(t, "recovery", at("2026-03-27T17:00:00Z"), 1) // Friday 18:00 CET: outside
	f.event(t, "alert", at("2026-03-28T12:00:00Z"), 2)    // Saturday: outside
	c.round(at("2026-03-28T12:00:01Z"))
	f.event(t, "recovery", at("2026-03-30T05:59:00Z"), 2) // Monday 07:59 CEST: outside
	f.event(t, "alert", at("2026-03-30T06:00:00Z"), 3)    // Monday 08:00 CEST: inside
	c.round(at("2026-03-30T06:00:01Z"))
	if got, want := f.kinds(), "alert@2026-03-27T07:00:00Z alert@2026-03-30T06:00:00Z"; got != want {
		t.Errorf("received %s, want %s", got, want)
	}
	if got, want := f.statuses(t), "alert:sent recovery:dropped alert:dropped recovery:dropped alert:sent"; got != want {
		t.Errorf("alert log %s, want %s", got, want)
	}
	ns, _ := f.st.Notifications(context.Background(), f.monitor, 10)
	for _, n := range ns {
		if n.Status == store.NotifyDropped && !strings.Contains(n.LastError, "outside the action's schedule (mon, tue, wed, thu, fri 08:00–18:00 Europe/Berlin)") {
			t.Errorf("a dropped notification says %q", n.LastError)
		}
	}
}

// TestScheduleHoldsUntilHours: with outside: hold, what was raised over
// the weekend (across the change to summer time) waits, through a restart,
// and goes out in order when the hours begin on Monday at 08:00 CEST
// (06:00 UTC), not at 08:00 CET.
func TestScheduleHoldsUntilHours(t *testing.T) {
	f := newScheduleFixture(t)
	scheduled(t, f, "hold")
	c := newClockedOutbox(f)
	f.event(t, "alert", at("2026-03-28T12:00:00Z"), 1)    // Saturday
	f.event(t, "recovery", at("2026-03-29T20:00:00Z"), 1) // Sunday
	c.round(at("2026-03-29T20:00:01Z"))
	c.round(at("2026-03-30T05:00:00Z"))
	c = newClockedOutbox(f) // a restart
	c.round(at("2026-03-30T05:59:59Z"))
	if got := f.kinds(); got != "" {
		t.Fatalf("received before the hours began: %s", got)
	}
	if got, want := f.statuses(t), "alert:pending recovery:pending"; got != want {
		t.Fatalf("alert log %s, want %s", got, want)
	}
	c.round(at("2026-03-30T06:00:00Z"))
	c.round(at("2026-03-30T06:00:01Z")) // the recovery, once the alert went
	if got, want := f.kinds(), "alert@2026-03-28T12:00:00Z recovery@2026-03-29T20:00:00Z"; got != want {
		t.Errorf("received %s, want %s", got, want)
	}
	if got, want := f.statuses(t), "alert:sent recovery:sent"; got != want {
		t.Errorf("alert log %s, want %s", got, want)
	}
}

// TestEscalatedMarked: an escalation says it is one in each form: the
// generic JSON, a command's environment, a summary line; others do not.
func TestEscalatedMarked(t *testing.T) {
	esc := Escalations(Event{Kind: "alert", MonitorID: 3, Monitor: "SMTP", Device: "mail1", State: "down"}, at("2026-03-29T01:00:00Z"), []int64{9}, nil)
	if len(esc) != 1 || esc[0].EventID != "3-escalation-1774746000000-0-9" || esc[0].Kind != "alert" {
		t.Fatalf("escalations: %+v", esc)
	}
	var ev Event
	must(t, json.Unmarshal(esc[0].Payload, &ev))
	b, _ := (&Webhook{}).Payload(ev)
	if !strings.Contains(string(b), `"escalated":true`) || !strings.Contains(strings.Join(Env(ev), " "), "MAILMON_ESCALATED=1") ||
		!strings.HasPrefix(Summary(ev), "[escalated] SMTP on mail1") {
		t.Errorf("escalation: %s, %v, %q", b, Env(ev), Summary(ev))
	}
	ev.Escalated = false
	b, _ = (&Webhook{}).Payload(ev)
	if strings.Contains(string(b), "escalated") || strings.Contains(strings.Join(Env(ev), " "), "ESCALATED") || strings.Contains(Summary(ev), "escalated") {
		t.Errorf("not an escalation: %s, %v, %q", b, Env(ev), Summary(ev))
	}
}
