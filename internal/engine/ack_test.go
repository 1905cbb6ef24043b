package engine

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestAckStopsRepeatsKeepsRecovery: a Down monitor alerts every failure;
// once its outage is acknowledged no more alerts go out, and its recovery
// still does.
func TestAckStopsRepeatsKeepsRecovery(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mailmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, _ := vault.New([]byte("engine-test-key-0123456789"))
	var healthy atomic.Bool
	target := smtpTarget(t, &healthy)
	rcv := &hook{}
	hs := httptest.NewServer(rcv)
	defer hs.Close()
	d := &store.Device{Name: "mail1", Address: "127.0.0.1"}
	must(t, st.PutDevice(ctx, d))
	spec, _ := json.Marshal(config.Alert{Name: "ops", Webhook: &config.Webhook{}})
	a := &store.Alert{Name: "ops", Kind: "webhook", Spec: spec}
	must(t, st.PutAlert(ctx, a))
	hookURL, _ := v.Seal([]byte(hs.URL), vault.AlertRecord(a.ID, "webhook.url"))
	a.Secrets = map[string]string{"webhook.url": hookURL}
	must(t, st.PutAlert(ctx, a))
	mspec, _ := json.Marshal(config.Monitor{Port: target.Port, EHLO: "engine.test",
		Timing: config.Timing{MaxDuration: config.Duration(time.Second), UpEvery: config.Duration(60 * time.Millisecond),
			DownEvery: config.Duration(60 * time.Millisecond), LostEvery: config.Duration(60 * time.Millisecond)},
		Notify: config.Notify{FailuresPerAlert: 1, MaxAlerts: 1000}})
	m := &store.Monitor{DeviceID: d.ID, Name: "SMTP", Type: "smtp", Enabled: true, Spec: mspec}
	must(t, st.PutMonitor(ctx, m))
	must(t, st.SetMonitorAlerts(ctx, m.ID, []int64{a.ID}))
	e := New(Options{Store: st, Vault: v, OutboxEvery: 20 * time.Millisecond, Timing: config.TimingLimits{MinInterval: time.Millisecond}})
	must(t, e.Load(ctx))
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	waitAlerts := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for len(rcv.kinds()) < n {
			if time.Now().After(deadline) {
				t.Fatalf("alerts: %v, want %d", rcv.kinds(), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitAlerts(2) // Down, and a repeat
	s, err := st.Status(ctx, m.ID)
	if err != nil || !s.Status.State.Failing() {
		t.Fatalf("status %+v %v", s, err)
	}
	must(t, st.PutAck(ctx, store.Ack{MonitorID: m.ID, Since: s.Status.Since.UTC().Truncate(time.Millisecond), By: "test", At: time.Now()}))
	// Notifications stored before the ack may still go out: count from
	// several tests after it.
	tested := func() int {
		rs, _ := st.Results(ctx, m.ID, time.Time{}, time.Now().Add(time.Hour), 10000)
		return len(rs)
	}
	n0 := tested()
	deadline := time.Now().Add(10 * time.Second)
	for tested() < n0+3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the outbox's rounds
	before := len(rcv.kinds())
	for tested() < n0+10 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := rcv.kinds(); len(got) != before {
		t.Fatalf("alerts after the ack: %v (had %d)", got, before)
	}
	healthy.Store(true)
	waitState(t, st, m.ID, state.Up, 10*time.Second)
	waitAlerts(before + 1)
	if k := rcv.kinds(); !slices.Contains(k, "recovery:up") {
		t.Errorf("no recovery after the ack: %v", k)
	}
}
