package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/postgres"
	"github.com/mailmon/mailmon/internal/testutil/realpg"
	"github.com/mailmon/mailmon/internal/testutil/sqlitetest"
	"github.com/mailmon/mailmon/internal/vault"
)

func TestMain(m *testing.M) { realpg.Main(m) }

// outboxFixture is a store with a webhook alert to rcv and a monitor.
type outboxFixture struct {
	st      store.Store
	v       *vault.Vault
	rcv     *receiver
	alert   int64
	monitor int64
	// first, when set, answers the receiver's next request instead of
	// rcv (once).
	first atomic.Pointer[http.HandlerFunc]
}

func newOutboxFixture(t *testing.T, st store.Store) *outboxFixture {
	ctx := context.Background()
	f := &outboxFixture{st: st, rcv: &receiver{}}
	f.v, _ = vault.New([]byte("engine-test-key-0123456789"))
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := f.first.Swap(nil); h != nil {
			(*h)(w, r)
			return
		}
		f.rcv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	d := &store.Device{Name: "mail1", Address: "127.0.0.1"}
	must(t, st.PutDevice(ctx, d))
	spec, _ := json.Marshal(config.Alert{Name: "ops", Webhook: &config.Webhook{}})
	a := &store.Alert{Name: "ops", Kind: "webhook", Spec: spec}
	must(t, st.PutAlert(ctx, a))
	sealed, _ := f.v.Seal([]byte(hs.URL), vault.AlertRecord(a.ID, "webhook.url"))
	a.Secrets = map[string]string{"webhook.url": sealed}
	must(t, st.PutAlert(ctx, a))
	mspec, _ := json.Marshal(config.Monitor{Port: 25})
	m := &store.Monitor{DeviceID: d.ID, Name: "smtp", Type: "tcp", Enabled: true, Spec: mspec}
	must(t, st.PutMonitor(ctx, m))
	f.alert, f.monitor = a.ID, m.ID
	return f
}

// pgStore is a store on a fresh database of the harness's PostgreSQL.
func pgStore(t *testing.T) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), realpg.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// event stores a notification of the monitor (kind alert or recovery)
// that happened at at, as the engine does; seq tells it from others.
func (f *outboxFixture) event(t *testing.T, kind string, at time.Time, seq int) {
	t.Helper()
	st := state.Down
	if kind == "recovery" {
		st = state.Up
	}
	ev := Event{Kind: kind, MonitorID: f.monitor, Monitor: "smtp", Device: "mail1", Type: "tcp", State: string(st), Time: at}
	must(t, f.st.RecordTest(context.Background(), store.Test{
		Result:        store.Result{MonitorID: f.monitor, Time: at, Status: probe.StatusDown},
		Status:        store.Status{MonitorID: f.monitor, Status: state.Status{State: st, Since: at}, LastTest: at},
		Notifications: Notifications(ev, at, seq, []int64{f.alert}, nil),
	}))
}

// received are the generic payloads the receiver got.
func (f *outboxFixture) received() []GenericPayload {
	f.rcv.mu.Lock()
	defer f.rcv.mu.Unlock()
	var out []GenericPayload
	for _, b := range f.rcv.bodies {
		var p GenericPayload
		json.Unmarshal(b, &p)
		out = append(out, p)
	}
	return out
}

func (f *outboxFixture) statuses(t *testing.T) string {
	t.Helper()
	ns, err := f.st.Notifications(context.Background(), f.monitor, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(ns) - 1; i >= 0; i-- {
		out = append(out, ns[i].Kind+":"+ns[i].Status)
	}
	return strings.Join(out, " ")
}

// TestResendAfterRecoveryIsSuperseded: after a restart, a Down that was in
// flight when the node stopped is not delivered once its recovery was (a
// receiver that does not drop repeats by id would show the monitor down);
// one whose monitor has no later notice goes out, marked as a late resend
// with the time it happened.
func TestResendAfterRecoveryIsSuperseded(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := sqlitetest.Open(t)
	f := newOutboxFixture(t, st)
	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	f.event(t, "alert", at, 1) // in flight at the crash: still pending
	f.event(t, "recovery", at.Add(20*time.Second), 1)
	ns, _ := st.Notifications(ctx, f.monitor, 10)
	must(t, st.MarkNotification(ctx, ns[0].ID, "", store.NotifySent, 1, "", at.Add(21*time.Second))) // the recovery went out
	f.event(t, "alert", at.Add(30*time.Second), 2)                                                   // a new outage, its alert pending too

	ob := NewOutbox(OutboxOptions{Store: st, Actions: &Actions{Vault: f.v}, Every: 20 * time.Millisecond})
	done := make(chan struct{})
	go func() { ob.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(5 * time.Second)
	for f.statuses(t) != "alert:superseded recovery:sent alert:sent" {
		if time.Now().After(deadline) {
			t.Fatalf("the alert log: %s", f.statuses(t))
		}
		time.Sleep(10 * time.Millisecond)
	}
	got := f.received()
	if len(got) != 1 || got[0].Event != "alert" || !got[0].LateResend || got[0].Time != at.Add(30*time.Second).UTC().Format(time.RFC3339) {
		t.Errorf("received %+v, want the second outage's alert alone, as a late resend of its time", got)
	}
}

// TestDeadNodesClaimsMoveWithItsHeartbeat: a node that dies holding
// several claimed notifications leaves them to another node once its
// heartbeat expires (not after the claims' hold of an hour): each
// delivered once, in order, but those whose recovery was delivered
// meanwhile; as a late resend the one whose send had begun (the receiver
// may have it), on time the one it had not begun (it used to be marked
// late too: a first page labelled a repeat).
func TestDeadNodesClaimsMoveWithItsHeartbeat(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := pgStore(t)
	f := newOutboxFixture(t, st)
	now := time.Now().Truncate(time.Second)
	f.event(t, "alert", now, 1) // an outage's two alerts
	f.event(t, "alert", now.Add(time.Second), 2)
	f.event(t, "recovery", now.Add(2*time.Second), 2) // its end, delivered
	ns, _ := st.Notifications(ctx, f.monitor, 10)
	must(t, st.MarkNotification(ctx, ns[0].ID, "", store.NotifySent, 1, "", now))
	f.event(t, "alert", now.Add(3*time.Second), 1) // the next outage's two
	f.event(t, "alert", now.Add(4*time.Second), 2)
	ttl := time.Second
	if _, err := st.Heartbeat(ctx, store.Node{ID: "dying", Name: "dying"}, ttl); err != nil {
		t.Fatal(err)
	}
	held, err := st.ClaimNotifications(ctx, "dying", time.Hour, 10)
	if err != nil || len(held) != 4 {
		t.Fatalf("the dying node claimed %d: %v", len(held), err)
	}
	must(t, st.BeginNotification(ctx, "dying", held[2].ID))
	// The dying node stops heartbeating, holding four claims, having
	// begun to send the second outage's first alert.

	stopBeat := make(chan struct{})
	go func() {
		for {
			st.Heartbeat(context.WithoutCancel(ctx), store.Node{ID: "alive", Name: "alive"}, ttl)
			select {
			case <-stopBeat:
				return
			case <-time.After(ttl / 5):
			}
		}
	}()
	defer close(stopBeat)
	started := time.Now()
	ob := NewOutbox(OutboxOptions{Store: st, Claims: st, Node: "alive", Actions: &Actions{Vault: f.v}, Every: 50 * time.Millisecond})
	done := make(chan struct{})
	go func() { ob.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	want := "alert:superseded alert:superseded recovery:sent alert:sent alert:sent"
	deadline := time.Now().Add(10 * time.Second)
	for f.statuses(t) != want {
		if time.Now().After(deadline) {
			t.Fatalf("the alert log: %s, want %s", f.statuses(t), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(started)
	t.Logf("the dead node's claims delivered %v after the other node started (heartbeat %v)", took.Round(time.Millisecond), ttl)
	if took > ttl+3*time.Second {
		t.Errorf("taken over after %v", took)
	}
	got := f.received()
	if len(got) != 2 || !got[0].LateResend || got[1].LateResend ||
		got[0].ID != fmt.Sprintf("%s-%d", EventID(f.monitor, "alert", now.Add(3*time.Second), 1), f.alert) ||
		got[1].ID != fmt.Sprintf("%s-%d", EventID(f.monitor, "alert", now.Add(4*time.Second), 2), f.alert) {
		t.Errorf("received %+v, want the second outage's two alerts, in order, the first (begun) as a late resend, the second on time", got)
	}
}

// TestLateResendIsMarked: every action tells a late resend, with the time
// it happened.
func TestLateResendIsMarked(t *testing.T) {
	late := ev
	late.Late = true
	const mark = "[late resend of 2026-11-22T01:02:03Z]"
	generic, _ := (&Webhook{}).Payload(late)
	slack, _ := (&Webhook{Format: FormatSlack}).Payload(late)
	teams, _ := (&Webhook{Format: FormatTeams}).Payload(late)
	mail := string((&Email{From: "a@example.test", To: []string{"b@example.test"}}).Message(late, time.Now()))
	env := strings.Join(Env(late), "\n")
	for what, ok := range map[string]bool{
		"generic": strings.Contains(string(generic), `"late_resend":true`) && strings.Contains(string(generic), `"time":"2026-11-22T01:02:03Z"`),
		"slack":   strings.Contains(string(slack), mark),
		"teams":   strings.Contains(string(teams), mark),
		"e-mail":  strings.Contains(mail, "Subject: "+mark) && strings.Contains(mail, "Late resend: this happened at 2026-11-22T01:02:03Z"),
		"command": strings.Contains(env, "MAILMON_LATE_RESEND=1"),
	} {
		if !ok {
			t.Errorf("%s does not say it is a late resend", what)
		}
	}
	generic, _ = (&Webhook{}).Payload(ev)
	if strings.Contains(string(generic), "late") || strings.Contains(Summary(ev), "late") || strings.Contains(strings.Join(Env(ev), " "), "LATE") {
		t.Errorf("an event on time is marked late: %s", generic)
	}
}

// TestLateHeartbeatGivesClaimsBack: a node whose heartbeat is late (its
// claims may pass to another node any moment) delivers none of what it
// claimed and gives the claims back, so that another node sends each
// once, at once: it sent them while another, which took the claims once
// the heartbeat expired, sent them too (two alerts delivered twice on a
// loaded machine).
func TestLateHeartbeatGivesClaimsBack(t *testing.T) {
	ctx := context.Background()
	st := pgStore(t)
	f := newOutboxFixture(t, st)
	now := time.Now().Truncate(time.Second)
	f.event(t, "alert", now, 1)
	f.event(t, "alert", now.Add(time.Second), 2)
	for _, n := range []string{"late", "other"} {
		if _, err := st.Heartbeat(ctx, store.Node{ID: n, Name: n}, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	ob := NewOutbox(OutboxOptions{Store: st, Claims: st, Node: "late", Actions: &Actions{Vault: f.v}, Alive: func() bool { return false }})
	ob.deliverPending(ctx)
	if got := f.received(); len(got) != 0 {
		t.Errorf("a node with a late heartbeat delivered %d", len(got))
	}
	if got, err := st.ClaimNotifications(ctx, "other", time.Hour, 10); err != nil || len(got) != 2 {
		t.Errorf("another node could claim %d of the 2 at once (%v), want both", len(got), err)
	}
}

// claimsThen runs then after each of its ClaimNotifications: what another
// node does at that moment.
type claimsThen struct {
	*postgres.Store
	then func()
}

func (c claimsThen) ClaimNotifications(ctx context.Context, node string, hold time.Duration, limit int) ([]store.Notification, error) {
	ns, err := c.Store.ClaimNotifications(ctx, node, hold, limit)
	c.then()
	return ns, err
}

// TestOutOfTimeNodeEndsNoOtherClaim: a node whose heartbeat is not fresh
// (it has not beaten yet, or it expired while the node read the outbox)
// delivers nothing of what it read and gives it back, while another node
// has taken it over and is delivering it. Giving it back must not end the
// taker's claim: a third node would claim the notification as new and
// deliver it again, not marked a late resend (two alerts delivered twice
// with one event id in a loaded TestThreeNodesShareAndTakeOver).
func TestOutOfTimeNodeEndsNoOtherClaim(t *testing.T) {
	for name, ttl := range map[string]time.Duration{"before its first heartbeat": 0, "its heartbeat expired meanwhile": 300 * time.Millisecond} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := pgStore(t)
			f := newOutboxFixture(t, st)
			f.event(t, "alert", time.Now().Truncate(time.Second), 1)
			for _, n := range []string{"taker", "third"} {
				if _, err := st.Heartbeat(ctx, store.Node{ID: n, Name: n}, time.Minute); err != nil {
					t.Fatal(err)
				}
			}
			if ttl > 0 {
				if _, err := st.Heartbeat(ctx, store.Node{ID: "x", Name: "x"}, ttl); err != nil {
					t.Fatal(err)
				}
			}
			var taken []store.Notification
			claims := claimsThen{Store: st, then: func() {
				waitExpired(t, st, "x")
				var err error
				if taken, err = st.ClaimNotifications(ctx, "taker", time.Hour, 10); err != nil {
					t.Fatal(err)
				}
			}}
			x := NewOutbox(OutboxOptions{Store: st, Claims: claims, Node: "x", Actions: &Actions{Vault: f.v}, Alive: func() bool { return false }})
			x.deliverPending(ctx)
			third := NewOutbox(OutboxOptions{Store: st, Claims: st, Node: "third", Actions: &Actions{Vault: f.v}})
			third.deliverPending(ctx)
			third.wg.Wait()
			if len(taken) != 1 {
				t.Errorf("the taker claimed %d, want the alert", len(taken))
			}
			if got := f.received(); len(got) != 0 {
				t.Errorf("a third node delivered %+v while the taker held its claim", got)
			}
		})
	}
}

// failingMarks fails its first fail MarkNotification calls, as a database
// that is briefly away (locked, restarting) does.
type failingMarks struct {
	store.Store
	fail atomic.Int32
}

func (s *failingMarks) MarkNotification(ctx context.Context, id int64, node, status string, attempts int, lastError string, at time.Time) error {
	if s.fail.Add(-1) >= 0 {
		return errors.New("database is locked")
	}
	return s.Store.MarkNotification(ctx, id, node, status, attempts, lastError, at)
}

// TestSentButNotMarkedIsNotSentAgain: an alert delivered whose "sent" mark
// failed is marked again, not delivered again: it used to be read as
// pending at the next round and sent a second time, not marked a late
// resend.
func TestSentButNotMarkedIsNotSentAgain(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.Open(t)
	f := newOutboxFixture(t, st)
	fs := &failingMarks{Store: st}
	fs.fail.Store(1)
	ob := NewOutbox(OutboxOptions{Store: fs, Actions: &Actions{Vault: f.v}})
	time.Sleep(2 * time.Millisecond)
	f.event(t, "alert", time.Now(), 1) // raised after the start: on time
	for range 3 {
		ob.deliverPending(ctx)
		ob.wg.Wait()
	}
	if got := f.received(); len(got) != 1 || got[0].LateResend {
		t.Errorf("delivered %d times (%+v), want once, on time", len(got), got)
	}
	if s := f.statuses(t); s != "alert:sent" {
		t.Errorf("the alert log: %s, want alert:sent", s)
	}
}

// TestOldClaimIsNotDelivered pins the rule that keeps a claim from lapsing
// during its delivery (several nodes): a notification claimed so long ago
// that its claim could expire before its delivery ends (claimHold, less
// deliverTimeout and a margin) is given back, not started: another node
// could take it over meanwhile and send it too. One claimed just now goes.
func TestOldClaimIsNotDelivered(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.Open(t)
	f := newOutboxFixture(t, st)
	f.event(t, "alert", time.Now().Truncate(time.Second), 1)
	ns, err := st.PendingNotifications(ctx, 10)
	if err != nil || len(ns) != 1 {
		t.Fatalf("pending %d %v", len(ns), err)
	}
	ob := NewOutbox(OutboxOptions{Store: st, Claims: beginAny{}, Node: "n", Actions: &Actions{Vault: f.v}})
	for _, c := range []struct {
		age       time.Duration
		delivered bool
	}{{claimHold - deliverTimeout, false}, {0, true}} {
		ob.mu.Lock()
		q := ob.queue(ns[0].AlertID)
		q.add(ns[0])
		ob.queued[ns[0].ID] = time.Now().Add(-c.age)
		dropped := ob.start(ctx, q)
		ob.mu.Unlock()
		ob.wg.Wait()
		if got := len(f.received()) > 0; got != c.delivered || (len(dropped) == 1) == c.delivered {
			t.Errorf("claimed %v ago: delivered %v, given back %v; want delivered %v", c.age, got, dropped, c.delivered)
		}
	}
}

// beginAny is a Cluster whose BeginNotification lets any send begin (the
// rest is not there).
type beginAny struct{ store.Cluster }

func (beginAny) BeginNotification(context.Context, string, int64) error { return nil }

// waitExpired waits for node's heartbeat to expire.
func waitExpired(t *testing.T, st store.Cluster, node string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		live, err := st.Nodes(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(live, func(n store.Node) bool { return n.ID == node }) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's heartbeat did not expire", node)
		}
	}
}

// TestFailedAttemptAfterTakeOverLeavesSent: a node whose heartbeat lapses
// while its receiver is slow, and whose attempt then fails, leaves the
// outcome of the node that took the notification over meanwhile and
// delivered it (as a late resend: the first send had begun). Its
// "pending" used to overwrite the taker's "sent", and a third delivery
// followed once the taker's claim expired.
func TestFailedAttemptAfterTakeOverLeavesSent(t *testing.T) {
	ctx := context.Background()
	st := pgStore(t)
	f := newOutboxFixture(t, st)
	f.event(t, "alert", time.Now().Truncate(time.Second), 1)
	if _, err := st.Heartbeat(ctx, store.Node{ID: "slow", Name: "slow"}, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Heartbeat(ctx, store.Node{ID: "taker", Name: "taker"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	began, release := make(chan struct{}), make(chan struct{})
	slowFirst := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		close(began)
		<-release
		w.WriteHeader(http.StatusServiceUnavailable) // the slow node's attempt fails
	})
	f.first.Store(&slowFirst)
	slow := NewOutbox(OutboxOptions{Store: st, Claims: st, Node: "slow", Actions: &Actions{Vault: f.v}})
	slow.deliverPending(ctx)
	select {
	case <-began:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow node did not send")
	}
	waitExpired(t, st, "slow")
	taker := NewOutbox(OutboxOptions{Store: st, Claims: st, Node: "taker", Actions: &Actions{Vault: f.v}})
	taker.deliverPending(ctx)
	taker.wg.Wait()
	close(release)
	slow.wg.Wait()
	if got := f.received(); len(got) != 1 || !got[0].LateResend {
		t.Errorf("the taker delivered %+v, want the alert once, as a late resend", got)
	}
	if s := f.statuses(t); s != "alert:sent" {
		t.Errorf("the alert log: %s, want alert:sent (the taker's), not the slow node's failed attempt", s)
	}
	if ns, _ := st.Notifications(ctx, f.monitor, 1); len(ns) != 1 || ns[0].Attempts != 1 || ns[0].LastError != "" {
		t.Errorf("the alert log's entry %+v, want the taker's attempt", ns)
	}
}

// TestHeldClaimLapsedIsNotLate: a notification held for its action's
// hours by a node that then died, and delivered by another node once the
// hours began, goes out once, on time: it was never sent. It used to be
// marked a late resend (its claim had lapsed), a first page labelled a
// repeat.
func TestHeldClaimLapsedIsNotLate(t *testing.T) {
	ctx := context.Background()
	st := pgStore(t)
	f := newOutboxFixture(t, st)
	scheduled(t, f, "hold")
	f.event(t, "alert", at("2026-03-28T12:00:00Z"), 1) // Saturday: outside
	if _, err := st.Heartbeat(ctx, store.Node{ID: "dying", Name: "dying"}, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Heartbeat(ctx, store.Node{ID: "other", Name: "other"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	sunday := func() time.Time { return at("2026-03-29T20:00:00Z") }
	dying := NewOutbox(OutboxOptions{Store: st, Claims: st, Node: "dying", Actions: &Actions{Vault: f.v}, Now: sunday})
	dying.deliverPending(ctx)
	dying.wg.Wait()
	if got := f.received(); len(got) != 0 {
		t.Fatalf("delivered outside the hours: %+v", got)
	}
	waitExpired(t, st, "dying") // holding its claim
	monday := func() time.Time { return at("2026-03-30T06:00:01Z") }
	other := NewOutbox(OutboxOptions{Store: st, Claims: st, Node: "other", Actions: &Actions{Vault: f.v}, Now: monday})
	for range 2 {
		other.deliverPending(ctx)
		other.wg.Wait()
	}
	if got := f.received(); len(got) != 1 || got[0].LateResend {
		t.Errorf("delivered %+v, want the alert once, on time", got)
	}
	if s := f.statuses(t); s != "alert:sent" {
		t.Errorf("the alert log: %s, want alert:sent", s)
	}
}
