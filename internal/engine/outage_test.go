package engine_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/testutil/flakystore"
)

// recorder is an action that keeps the events it is given.
type recorder struct {
	mu     sync.Mutex
	events []alert.Event
	at     []time.Time
}

func (r *recorder) Notify(ctx context.Context, ev alert.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events, r.at = append(r.events, ev), append(r.at, time.Now())
	return nil
}

// TestOutageAlertIsLocalAndRateLimited: a node that cannot reach its
// database tells the actions set on the host once the outage has lasted
// OutageAfter, again at most every OutageEvery, and once when it ends.
func TestOutageAlertIsLocalAndRateLimited(t *testing.T) {
	st := flakystore.Open(t)
	rec := &recorder{}
	e := engine.New(engine.Options{Store: st, Node: store.Node{Name: "n1"}, HealthEvery: 10 * time.Millisecond,
		OutageAlerts: []alert.Notifier{rec}, OutageAfter: 100 * time.Millisecond, OutageEvery: 400 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	time.Sleep(50 * time.Millisecond)
	st.Down.Store(true)
	down := time.Now()
	// The outage lasts until three alerts have gone out (about 0.1, 0.5
	// and 0.9 s into it; waited for, not slept, so that a loaded machine
	// cannot make the count wrong), then ends.
	count := func() (alerts int, last string) {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, ev := range rec.events {
			if ev.State == "down" {
				alerts++
			}
			last = ev.State
		}
		return alerts, last
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				rec.mu.Lock()
				defer rec.mu.Unlock()
				t.Fatalf("no %s in 30 s; local alerts %q", what, kindsOf(rec.events))
			}
		}
	}
	waitFor("third alert", func() bool { n, _ := count(); return n >= 3 })
	st.Down.Store(false)
	waitFor("recovery", func() bool { _, last := count(); return last == "up" })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	kinds := kindsOf(rec.events)
	if k := strings.Join(kinds, " "); !strings.HasPrefix(k, "alert alert alert") || kinds[len(kinds)-1] != "recovery" || strings.Count(k, "recovery") != 1 {
		t.Fatalf("local alerts %q, want alerts every 400 ms of the outage, then one recovery", k)
	}
	if first := rec.at[0].Sub(down); first < 100*time.Millisecond {
		t.Errorf("the first alert %v into the outage, before OutageAfter", first)
	}
	for i := 1; i < len(rec.events)-1; i++ {
		// The engine's own clock at each decision (the event's Time): when
		// Notify ran lags it by a little, differently each time.
		if gap := rec.events[i].Time.Sub(rec.events[i-1].Time); gap < 400*time.Millisecond {
			t.Errorf("alerts %v apart, want OutageEvery at least", gap)
		}
	}
	a := rec.events[0]
	if a.Monitor != "database" || a.Device != "n1" || a.State != "down" || a.Code != "DB_UNAVAILABLE" || !strings.Contains(a.Detail, "connection refused") {
		t.Errorf("the alert %+v", a)
	}
	if r := rec.events[len(rec.events)-1]; r.State != "up" || r.ID == a.ID {
		t.Errorf("the recovery %+v", r)
	}
}

func kindsOf(evs []alert.Event) []string {
	var k []string
	for _, ev := range evs {
		k = append(k, ev.Kind)
	}
	return k
}
