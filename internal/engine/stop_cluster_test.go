package engine

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/postgres"
	"github.com/mailmon/mailmon/internal/testutil/realpg"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestStoppingNodeHoldsItsClaimsWhileDelivering: a node stopped
// gracefully (SIGTERM) while an alert's delivery is under way (a slow
// receiver) keeps its heartbeat, and with it the delivery's claim, until
// the delivery ends: another node does not take the alert over and send it
// a second time. (Its heartbeat used to stop with its other loops, so the
// claim lapsed a heartbeat's life later.)
func TestStoppingNodeHoldsItsClaimsWhileDelivering(t *testing.T) {
	ctx := context.Background()
	st, err := postgres.Open(ctx, realpg.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var got atomic.Int32
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-release
	}))
	defer hs.Close()
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	v, _ := vault.New([]byte("engine-test-key-0123456789"))
	a := webhookAlert(t, st, v, hs.URL)
	d := &store.Device{Name: "mail1", Address: "127.0.0.1"}
	must(t, st.PutDevice(ctx, d))
	m := &store.Monitor{DeviceID: d.ID, Name: "smtp", Type: "tcp", Spec: json.RawMessage(`{"port":25}`)} // disabled: never tested
	must(t, st.PutMonitor(ctx, m))
	at := time.Now()
	ev := alert.Event{Kind: "alert", MonitorID: m.ID, Monitor: m.Name, Device: d.Name, Type: "tcp", State: "down", Time: at}
	if _, err := st.AddNotifications(ctx, alert.Notifications(ev, at, 1, []int64{a.ID}, nil)); err != nil {
		t.Fatal(err)
	}

	const lease = 2 * time.Second // a heartbeat lives 1.6 s
	e := New(Options{Store: st, Vault: v, Node: store.Node{ID: "a", Name: "a"}, Cluster: st, Lease: lease, OutboxEvery: 20 * time.Millisecond})
	must(t, e.Load(ctx))
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { e.Run(rctx); close(done) }()
	began := time.Now()
	select {
	case <-arrived:
		t.Logf("delivery under way %v after the start", time.Since(began).Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatal("the alert was not delivered")
	}
	stop() // SIGTERM, the delivery under way

	// Another node looks for notifications to take over for more than
	// twice the stopping node's heartbeat life.
	if _, err := st.Heartbeat(ctx, store.Node{ID: "b", Name: "b"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(2*lease + time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		ns, err := st.ClaimNotifications(ctx, "b", time.Hour, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(ns) > 0 {
			t.Errorf("another node took over the alert the stopping node is still delivering (%s, reclaimed %v)", ns[0].EventID, ns[0].Reclaimed)
			break
		}
	}
	close(release)
	released = true
	stopping := time.Now()
	select {
	case <-done:
		t.Logf("stopped %v after the delivery ended", time.Since(stopping).Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatal("the node did not stop")
	}
	ns, err := st.Notifications(ctx, m.ID, 10)
	if err != nil || len(ns) != 1 || ns[0].Status != store.NotifySent || got.Load() != 1 {
		t.Errorf("the alert log %+v (%v), %d deliveries; want it sent, once", ns, err, got.Load())
	}
	if live, _ := st.Nodes(ctx); len(live) != 1 || live[0].ID != "b" {
		t.Errorf("the stopped node did not leave: live nodes %+v", live)
	}
}
