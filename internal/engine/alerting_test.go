package engine

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/vault"
)

// alerting is a store with a device, an SMTP server that fails until
// healthy is set and a webhook action whose receiver records what it gets:
// the setting of the tests of what alerts go out.
type alerting struct {
	ctx     context.Context
	st      store.Store
	v       *vault.Vault
	healthy *atomic.Bool
	port    int
	rcv     *hook
	dev     *store.Device
	alert   *store.Alert
	links   *alert.AckLinks // the engine's acknowledgement links (nil: none)
}

func newAlerting(t *testing.T) *alerting {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mailmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	v, _ := vault.New([]byte("engine-test-key-0123456789"))
	f := &alerting{ctx: ctx, st: st, v: v, healthy: &atomic.Bool{}, rcv: &hook{}}
	f.port = smtpTarget(t, f.healthy).Port
	hs := httptest.NewServer(f.rcv)
	t.Cleanup(hs.Close)
	f.dev = &store.Device{Name: "mail1", Address: "127.0.0.1"}
	must(t, st.PutDevice(ctx, f.dev))
	f.alert = webhookAlert(t, st, v, hs.URL)
	return f
}

// webhookAlert stores a webhook action "ops" to url, sealed with v.
func webhookAlert(t *testing.T, st store.Store, v *vault.Vault, url string) *store.Alert {
	t.Helper()
	ctx := context.Background()
	spec, _ := json.Marshal(config.Alert{Name: "ops", Webhook: &config.Webhook{}})
	a := &store.Alert{Name: "ops", Kind: "webhook", Spec: spec}
	must(t, st.PutAlert(ctx, a))
	sealed, _ := v.Seal([]byte(url), vault.AlertRecord(a.ID, "webhook.url"))
	a.Secrets = map[string]string{"webhook.url": sealed}
	must(t, st.PutAlert(ctx, a))
	return a
}

// monitor adds an SMTP monitor of the server, tested every 60 ms, that
// alerts every failure and depends on the monitors named.
func (f *alerting) monitor(t *testing.T, name string, dependsOn ...string) *store.Monitor {
	t.Helper()
	every := config.Duration(60 * time.Millisecond)
	mspec, _ := json.Marshal(config.Monitor{Port: f.port, EHLO: "engine.test", DependsOn: dependsOn,
		Timing: config.Timing{MaxDuration: config.Duration(time.Second), UpEvery: every, DownEvery: every, LostEvery: every},
		Notify: config.Notify{FailuresPerAlert: 1, MaxAlerts: 1000}})
	m := &store.Monitor{DeviceID: f.dev.ID, Name: name, Type: "smtp", Enabled: true, Spec: mspec}
	must(t, f.st.PutMonitor(f.ctx, m))
	must(t, f.st.SetMonitorAlerts(f.ctx, m.ID, []int64{f.alert.ID}))
	return m
}

// run loads the monitors and runs an engine until the test ends.
func (f *alerting) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(f.ctx)
	e := New(Options{Store: f.st, Vault: f.v, OutboxEvery: 20 * time.Millisecond, Timing: config.TimingLimits{MinInterval: time.Millisecond}, AckLinks: f.links})
	must(t, e.Load(ctx))
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitLimit bounds the waits for what the engine is expected to do: what
// is asserted is that it happens, not how fast (a loaded machine with
// several go test -race at once was seen to take more than 10 s for three
// tests at a 60 ms interval).
const waitLimit = 30 * time.Second

// waitAlerts waits for the receiver to have n alerts.
func (f *alerting) waitAlerts(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for len(f.rcv.kinds()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("alerts: %v, want %d", f.rcv.kinds(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tested is how many tests of monitor id are stored.
func (f *alerting) tested(id int64) int {
	rs, _ := f.st.Results(f.ctx, id, time.Time{}, time.Now().Add(time.Hour), 10000)
	return len(rs)
}

// waitTested waits for n more tests of monitor id than it had.
func (f *alerting) waitTested(t *testing.T, id int64, n int) {
	t.Helper()
	n0 := f.tested(id)
	deadline := time.Now().Add(waitLimit)
	for f.tested(id) < n0+n {
		if time.Now().After(deadline) {
			t.Fatalf("monitor %d: %d tests, want %d more than %d within %v", id, f.tested(id), n, n0, waitLimit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitDelivered waits until no notification of monitor id waits in the
// outbox: each stored one has been sent (the receiver has it) or given up.
func (f *alerting) waitDelivered(t *testing.T, id int64) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		ns, err := f.st.Notifications(f.ctx, id, 10000)
		must(t, err)
		pending := 0
		for _, n := range ns {
			if n.Status == store.NotifyPending {
				pending++
			}
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("monitor %d: %d of %d notifications still in the outbox after %v", id, pending, len(ns), waitLimit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stored is how many notifications of monitor id are stored.
func (f *alerting) stored(t *testing.T, id int64) int {
	t.Helper()
	ns, err := f.st.Notifications(f.ctx, id, 10000)
	must(t, err)
	return len(ns)
}
