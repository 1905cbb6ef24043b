package engine

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
	"github.com/mailmon/mailmon/internal/testutil/saslsrv"
	"github.com/mailmon/mailmon/internal/vault"
)

// hook is a test webhook receiver.
type hook struct {
	mu     sync.Mutex
	events []alert.GenericPayload
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var p alert.GenericPayload
	json.Unmarshal(b, &p)
	h.mu.Lock()
	h.events = append(h.events, p)
	h.mu.Unlock()
}

func (h *hook) kinds() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var k []string
	for _, e := range h.events {
		k = append(k, e.Event+":"+e.State)
	}
	return k
}

// smtpTarget answers like an SMTP server while healthy and hangs up at once
// while not.
func smtpTarget(t *testing.T, healthy *atomic.Bool) *hostile.Server {
	return hostile.Start(t, func(c *hostile.Conn) {
		if !healthy.Load() {
			return
		}
		c.Send("220 target ESMTP\r\n")
		for {
			l := c.ReadLine()
			switch {
			case l == "":
				return
			case len(l) >= 4 && l[:4] == "EHLO":
				c.Send("250 target\r\n")
			case len(l) >= 4 && l[:4] == "QUIT":
				c.Send("221 bye\r\n")
				return
			}
		}
	})
}

func waitState(t *testing.T, s store.Store, id int64, want state.State, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if st, err := s.Status(context.Background(), id); err == nil && st.Status.State == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	st, _ := s.Status(context.Background(), id)
	t.Fatalf("monitor %d never reached %s (now %+v)", id, want, st)
}

func TestOutageAlertsLostRecovery(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mailmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, _ := vault.New([]byte("engine-test-key-0123456789"))
	var healthy atomic.Bool
	healthy.Store(true)
	target := smtpTarget(t, &healthy)
	rcv := &hook{}
	hs := httptest.NewServer(rcv)
	defer hs.Close()

	d := &store.Device{Name: "mail1", Address: "127.0.0.1"}
	must(t, st.PutDevice(ctx, d))
	spec, _ := json.Marshal(config.Alert{Name: "ops", Webhook: &config.Webhook{}})
	a := &store.Alert{Name: "ops", Kind: "webhook", Spec: spec}
	must(t, st.PutAlert(ctx, a))
	hookURL, _ := v.Seal([]byte(hs.URL), vault.AlertRecord(a.ID, "webhook.url")) // a webhook's URL is a secret
	a.Secrets = map[string]string{"webhook.url": hookURL}
	must(t, st.PutAlert(ctx, a))
	// And an e-mail alert through a relay that wants STARTTLS and AUTH.
	ca := certs.NewCA(t)
	relay := fakesmtp.Start(t, fakesmtp.Options{TLS: certs.ServerConfig(ca.Issue(t, certs.Leaf{})),
		Accounts: saslsrv.Accounts{Passwords: map[string]string{"alerts@example.test": "relay-pw"}}})
	espec, _ := json.Marshal(config.Alert{Name: "mail", Email: &config.Email{To: []string{"oncall@example.test"},
		Relay: config.Leg{Host: relay.Host, Port: relay.Port, TLS: "starttls", CA: ca.File(t), User: "alerts@example.test"}}})
	ea := &store.Alert{Name: "mail", Kind: "email", Spec: espec}
	must(t, st.PutAlert(ctx, ea))
	sealed, _ := v.Seal([]byte("relay-pw"), vault.AlertRecord(ea.ID, "relay.password"))
	ea.Secrets = map[string]string{"relay.password": sealed}
	must(t, st.PutAlert(ctx, ea))
	mspec, _ := json.Marshal(config.Monitor{Port: target.Port, EHLO: "engine.test",
		Timing: config.Timing{MaxDuration: config.Duration(time.Second), UpEvery: config.Duration(150 * time.Millisecond),
			DownEvery: config.Duration(60 * time.Millisecond), LostEvery: config.Duration(60 * time.Millisecond)},
		Notify: config.Notify{FailuresPerAlert: 2, MaxAlerts: 2}})
	m := &store.Monitor{DeviceID: d.ID, Name: "SMTP", Type: "smtp", Enabled: true, Spec: mspec}
	must(t, st.PutMonitor(ctx, m))
	must(t, st.SetMonitorAlerts(ctx, m.ID, []int64{a.ID, ea.ID}))

	e := New(Options{Store: st, Vault: v, OutboxEvery: 20 * time.Millisecond, BaseURL: "http://mailmon.test",
		Timing: config.TimingLimits{MinInterval: time.Millisecond}}) // tests every 60-150 ms
	must(t, e.Load(ctx))
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()

	waitState(t, st, m.ID, state.Up, 5*time.Second)
	healthy.Store(false)
	waitState(t, st, m.ID, state.Lost, 5*time.Second)
	time.Sleep(300 * time.Millisecond) // more failures in Lost: no more alerts
	healthy.Store(true)
	waitState(t, st, m.ID, state.Up, 5*time.Second)
	deadline := time.Now().Add(3 * time.Second)
	for (len(rcv.kinds()) < 3 || len(relay.Messages()) < 3) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	<-done

	got := rcv.kinds()
	want := []string{"alert:down", "alert:lost", "recovery:up"}
	if len(got) != len(want) {
		t.Fatalf("webhook got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("webhook got %v, want %v", got, want)
		}
	}
	rcv.mu.Lock()
	first := rcv.events[0]
	rcv.mu.Unlock()
	if first.Monitor != "SMTP" || first.Device != "mail1" || first.Error.Code != "disconnected" || first.URL != "http://mailmon.test/monitors/1" || first.ID == "" {
		t.Errorf("alert payload %+v", first)
	}
	changes, err := st.StateChanges(context.Background(), m.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var path []state.State
	for i := len(changes) - 1; i >= 0; i-- {
		path = append(path, changes[i].To)
	}
	wantPath := []state.State{state.Up, state.Warn, state.Down, state.Lost, state.Up}
	if len(path) != len(wantPath) {
		t.Fatalf("state changes %v, want %v", path, wantPath)
	}
	for i := range wantPath {
		if path[i] != wantPath[i] {
			t.Fatalf("state changes %v, want %v", path, wantPath)
		}
	}
	var subjects []string
	for _, msg := range relay.Messages() {
		for _, l := range strings.Split(string(msg.Data), "\r\n") {
			if strings.HasPrefix(l, "Subject: ") {
				subjects = append(subjects, strings.TrimPrefix(l, "Subject: "))
			}
		}
	}
	wantSubjects := []string{"[mailmon] SMTP on mail1 is down", "[mailmon] SMTP on mail1 is lost", "[mailmon] SMTP on mail1 is up"}
	if strings.Join(subjects, "|") != strings.Join(wantSubjects, "|") {
		t.Errorf("e-mails %q, want %q", subjects, wantSubjects)
	}
	log, _ := st.Notifications(context.Background(), m.ID, 10)
	if len(log) != 6 {
		t.Errorf("%d entries in the alert log, want 6 (3 events × 2 actions)", len(log))
	}
	for _, n := range log {
		if n.Status != store.NotifySent || n.Attempts != 1 {
			t.Errorf("alert log entry %+v", n)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestWatchPicksUpChanges: monitors created, changed and deleted in the
// store by someone else (mailmon apply) are picked up while running.
func TestWatchPicksUpChanges(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mailmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var healthy atomic.Bool
	healthy.Store(true)
	target := smtpTarget(t, &healthy)
	e := New(Options{Store: st, WatchEvery: 30 * time.Millisecond})
	must(t, e.Load(ctx))
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	d := &store.Device{Name: "late", Address: "127.0.0.1"}
	must(t, st.PutDevice(ctx, d))
	spec, _ := json.Marshal(config.Monitor{Port: target.Port, Timing: config.Timing{MaxDuration: config.Duration(time.Second), UpEvery: config.Duration(time.Hour)}})
	m := &store.Monitor{DeviceID: d.ID, Name: "added later", Type: "smtp", Enabled: true, Spec: spec}
	must(t, st.PutMonitor(ctx, m))
	waitState(t, st, m.ID, state.Up, 5*time.Second)

	m.Enabled = false
	must(t, st.PutMonitor(ctx, m))
	waitState(t, st, m.ID, state.Disabled, 5*time.Second)

	must(t, st.DeleteMonitor(ctx, m.ID))
	loaded := func() int {
		e.mu.Lock()
		defer e.mu.Unlock()
		return len(e.monitors)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && loaded() != 0 {
		time.Sleep(10 * time.Millisecond)
	}
	if loaded() != 0 {
		t.Errorf("a deleted monitor is still loaded")
	}
}
