package alert

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/testutil/notify"
	"github.com/mailmon/mailmon/internal/vault"
)

// queueFixture is a store with a device, the vault its alerts' URLs are
// sealed with, and a way to add webhook alerts and down monitors.
type queueFixture struct {
	t     *testing.T
	st    store.Store
	v     *vault.Vault
	dev   int64
	nmons int
}

func newQueueFixture(t *testing.T) *queueFixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "mailmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	v, _ := vault.New([]byte("engine-test-key-0123456789"))
	d := &store.Device{Name: "mail1", Address: "127.0.0.1"}
	must(t, st.PutDevice(context.Background(), d))
	return &queueFixture{t: t, st: st, v: v, dev: d.ID}
}

// webhook stores a webhook alert to url, its URL sealed as the catalog
// seals it; it returns its id.
func (f *queueFixture) webhook(name, url string) int64 {
	f.t.Helper()
	ctx := context.Background()
	spec, _ := json.Marshal(config.Alert{Name: name, Webhook: &config.Webhook{URL: config.SecretRef{Value: url}}})
	a := &store.Alert{Name: name, Kind: "webhook", Spec: spec}
	must(f.t, f.st.PutAlert(ctx, a))
	sealed, _ := f.v.Seal([]byte(url), vault.AlertRecord(a.ID, "webhook.url"))
	a.Secrets = map[string]string{"webhook.url": sealed}
	must(f.t, f.st.PutAlert(ctx, a))
	return a.ID
}

// down stores a monitor that went down, with a notification to each of
// alerts; it returns the monitor's id.
func (f *queueFixture) down(alerts ...int64) int64 {
	f.t.Helper()
	f.nmons++
	mspec, _ := json.Marshal(config.Monitor{Port: 25})
	m := &store.Monitor{DeviceID: f.dev, Name: "down" + string(rune('0'+f.nmons)), Type: "tcp", Enabled: true, Spec: mspec}
	must(f.t, f.st.PutMonitor(context.Background(), m))
	notify.Down(f.t, f.st, m.ID, alerts...)
	return m.ID
}

// run runs an outbox over the fixture's store until the test ends.
func (f *queueFixture) run(o OutboxOptions) *Outbox {
	o.Store = f.st
	if o.Actions == nil {
		o.Actions = &Actions{Vault: f.v}
	}
	if o.Every == 0 {
		o.Every = 20 * time.Millisecond
	}
	ob := NewOutbox(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ob.Run(ctx); close(done) }()
	f.t.Cleanup(func() { cancel(); <-done })
	return ob
}

// blackHole accepts connections and never answers; it reports each
// connection it accepted. hangUp closes them (a delivery under way runs
// to its end even when the outbox stops: this ends it).
func blackHole(t *testing.T) (url string, accepted <-chan struct{}, hangUp func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 16)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			ch <- struct{}{}
		}
	}()
	hangUp = func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}
	t.Cleanup(hangUp)
	return "http://" + ln.Addr().String() + "/hook", ch, hangUp
}

// TestSlowReceiverDelaysNoOtherAction: a webhook that accepts and never
// answers holds two alerts (15 s each before they time out); an alert to
// another action, stored after them, goes out at once, not after them.
// Before, deliveries went one at a time: it waited 30 s.
func TestSlowReceiverDelaysNoOtherAction(t *testing.T) {
	f := newQueueFixture(t)
	holeURL, accepted, hangUp := blackHole(t)
	defer hangUp()
	hole := f.webhook("hole", holeURL)
	got := make(chan time.Time, 4)
	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- time.Now() }))
	defer live.Close()
	ok := f.webhook("live", live.URL)
	f.down(hole)
	f.down(hole)
	f.down(ok)

	start := time.Now()
	ob := f.run(OutboxOptions{})
	select {
	case at := <-got:
		d := at.Sub(start)
		t.Logf("the working receiver had its alert %v after the outbox started, the black hole holding two", d.Round(time.Millisecond))
		if d > 5*time.Second {
			t.Errorf("the working receiver's alert took %v", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the working receiver had no alert within 10 s: the black hole holds it up")
	}
	for range 2 {
		select {
		case <-accepted:
		case <-time.After(10 * time.Second):
			t.Fatal("the black hole does not hold two alerts at once")
		}
	}
	health := map[int64]ActionHealth{}
	for _, h := range ob.Health() {
		health[h.AlertID] = h
	}
	if h := health[hole]; h.Name != "hole" || h.Queued != 2 || h.Busy != 2 || !h.LastSuccess.IsZero() {
		t.Errorf("the black hole's health: %+v, want 2 queued, 2 under way, no success", h)
	}
	// The success is recorded just after the receiver answered.
	deadline := time.Now().Add(5 * time.Second)
	for h := health[ok]; h.LastSuccess.IsZero() || h.Queued != 0; h = health[ok] {
		if time.Now().After(deadline) {
			t.Fatalf("the working action's health: %+v, want a success and nothing queued", h)
		}
		time.Sleep(10 * time.Millisecond)
		for _, h := range ob.Health() {
			health[h.AlertID] = h
		}
	}
	select {
	case <-got:
		t.Error("the working receiver had its alert twice")
	default:
	}
}

// slowReads hands the outbox's reads of pending notifications, each after
// the test lets it go: a read may see a notification still pending whose
// delivery ends before the read returns.
type slowReads struct {
	store.Store
	read chan []store.Notification // what each read found
	gate chan struct{}             // lets it return
}

func (s *slowReads) PendingNotifications(ctx context.Context, limit int) ([]store.Notification, error) {
	ns, err := s.Store.PendingNotifications(ctx, limit)
	s.read <- ns
	select {
	case <-s.gate:
	case <-ctx.Done():
	}
	return ns, err
}

// TestStaleReadSendsNoRepeat: deliveries run beside the reads of the
// outbox, so a read can find pending a notification whose delivery ends
// before the read returns; it is not delivered again.
func TestStaleReadSendsNoRepeat(t *testing.T) {
	f := newQueueFixture(t)
	arrived, release := make(chan struct{}, 4), make(chan struct{})
	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	defer live.Close()
	defer close(release)
	m := f.down(f.webhook("live", live.URL))
	reads := &slowReads{Store: f.st, read: make(chan []store.Notification), gate: make(chan struct{})}
	ob := NewOutbox(OutboxOptions{Store: reads, Actions: &Actions{Vault: f.v}, Every: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ob.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	<-reads.read
	reads.gate <- struct{}{} // the first read: the delivery starts
	<-arrived
	ob.Wake()
	if ns := <-reads.read; len(ns) != 1 {
		t.Fatalf("the second read found %d pending, want the one under way", len(ns))
	}
	release <- struct{}{} // the delivery ends while the read is out
	deadline := time.Now().Add(5 * time.Second)
	for {
		ns, _ := f.st.Notifications(context.Background(), m, 10)
		if len(ns) == 1 && ns[0].Status == store.NotifySent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not marked sent: %+v", ns)
		}
		time.Sleep(10 * time.Millisecond)
	}
	reads.gate <- struct{}{} // the stale read returns
	ob.Wake()
	if ns := <-reads.read; len(ns) != 0 { // the next read: nothing pending
		t.Fatalf("the third read found %d pending", len(ns))
	}
	// The stale read's round has ended: it started nothing.
	for _, h := range ob.Health() {
		if h.Busy != 0 || h.Queued != 0 {
			t.Errorf("after the stale read: %+v, want nothing under way", h)
		}
	}
	select {
	case <-arrived:
		t.Fatal("the notification was delivered again from a stale read")
	case reads.gate <- struct{}{}:
	}
	select {
	case <-arrived:
		t.Fatal("the notification was delivered again from a stale read")
	default:
	}
}

// TestRatePerAction: an action's rate spent, its next notification waits
// in the outbox (pending, not dropped); another action's goes out.
func TestRatePerAction(t *testing.T) {
	f := newQueueFixture(t)
	got := make(chan string, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.URL.Path }))
	defer srv.Close()
	a, b := f.webhook("a", srv.URL+"/a"), f.webhook("b", srv.URL+"/b")
	m1, m2 := f.down(a), f.down(a)
	f.down(b)
	ob := f.run(OutboxOptions{Burst: 1, Rate: time.Hour})
	seen := map[string]int{}
	for range 2 {
		select {
		case p := <-got:
			seen[p]++
		case <-time.After(10 * time.Second):
			t.Fatalf("deliveries: %v", seen)
		}
	}
	if seen["/a"] != 1 || seen["/b"] != 1 {
		t.Fatalf("deliveries: %v, want one to each action", seen)
	}
	// Several rounds later the second to a still waits, pending.
	for range 3 {
		ob.Wake()
		time.Sleep(30 * time.Millisecond)
	}
	pending := 0
	for _, m := range []int64{m1, m2} {
		ns, _ := f.st.Notifications(context.Background(), m, 10)
		for _, n := range ns {
			if n.Status == store.NotifyPending {
				pending++
			}
		}
	}
	if pending != 1 || len(got) != 0 {
		t.Errorf("%d pending, %d more delivered; want the second to action a waiting", pending, len(got))
	}
}
