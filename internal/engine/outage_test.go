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
	time.Sleep(1100 * time.Millisecond)
	st.Down.Store(false)
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		rec.mu.Lock()
		n := len(rec.events)
		rec.mu.Unlock()
		if n >= 4 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	// Alerts at about 0.1, 0.5 and 0.9 s into the outage, then the end.
	if k := strings.Join(kindsOf(rec.events), " "); k != "alert alert alert recovery" {
		t.Fatalf("local alerts %q, want three alerts (one every 400 ms of an outage of 1.1 s) and the recovery", k)
	}
	if first := rec.at[0].Sub(down); first < 100*time.Millisecond {
		t.Errorf("the first alert %v into the outage, before OutageAfter", first)
	}
	for i := 1; i < 3; i++ {
		if gap := rec.at[i].Sub(rec.at[i-1]); gap < 400*time.Millisecond {
			t.Errorf("alerts %v apart, want OutageEvery at least", gap)
		}
	}
	a := rec.events[0]
	if a.Monitor != "database" || a.Device != "n1" || a.State != "down" || a.Code != "DB_UNAVAILABLE" || !strings.Contains(a.Detail, "connection refused") {
		t.Errorf("the alert %+v", a)
	}
	if r := rec.events[3]; r.State != "up" || r.ID == a.ID {
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
