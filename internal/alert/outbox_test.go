package alert

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/testutil/syncbuf"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestWebhookURLStaysSealed: a webhook's URL is a secret. It is delivered
// to from its sealed value, and a failed delivery's stored error and log
// carry its host at most, never its path.
func TestWebhookURLStaysSealed(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mailmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, _ := vault.New([]byte("engine-test-key-0123456789"))
	rcv := &receiver{}
	hs := httptest.NewServer(rcv)
	defer hs.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	const path = "/services/T0/B0/s3cret-path"

	d := &store.Device{Name: "mail1", Address: "127.0.0.1"}
	must(t, st.PutDevice(ctx, d))
	var ids []int64
	for name, u := range map[string]string{"live": hs.URL + path, "dead": dead + path} {
		spec, _ := json.Marshal(config.Alert{Name: name, Webhook: &config.Webhook{URL: config.SecretRef{Value: u}}})
		if strings.Contains(string(spec), "s3cret") {
			t.Fatalf("the URL is in the settings: %s", spec)
		}
		a := &store.Alert{Name: name, Kind: "webhook", Spec: spec}
		must(t, st.PutAlert(ctx, a))
		sealed, _ := v.Seal([]byte(u), vault.AlertRecord(a.ID, "webhook.url"))
		a.Secrets = map[string]string{"webhook.url": sealed}
		must(t, st.PutAlert(ctx, a))
		ids = append(ids, a.ID)
	}
	mspec, _ := json.Marshal(config.Monitor{Port: 25})
	m := &store.Monitor{DeviceID: d.ID, Name: "down", Type: "tcp", Enabled: true, Spec: mspec}
	must(t, st.PutMonitor(ctx, m))
	recordAlert(t, st, m.ID, ids)

	var log syncbuf.Buffer
	ob := NewOutbox(OutboxOptions{Store: st, Actions: &Actions{Vault: v}, Every: 20 * time.Millisecond, Log: slog.New(slog.NewTextHandler(&log, nil))})
	done := make(chan struct{})
	go func() { ob.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ns, _ := st.Notifications(ctx, m.ID, 10)
		tried := 0
		for _, n := range ns {
			if n.Attempts > 0 {
				tried++
			}
		}
		if tried == 2 && rcv.count() == 1 {
			for _, n := range ns {
				if strings.Contains(n.LastError, "s3cret") {
					t.Errorf("a stored error carries the URL: %q", n.LastError)
				}
				if n.Status != store.NotifySent && !strings.Contains(n.LastError, dead) {
					t.Errorf("a failed delivery does not say where it went: %q", n.LastError)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries: %+v, received %d", ns, rcv.count())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(log.String(), "alert delivery failed") || strings.Contains(log.String(), "s3cret") {
		t.Errorf("the log:\n%s", log.String())
	}
}

// recordAlert stores a test of monitor id that calls for an alert to each
// of alerts, as the engine does: the outbox's entries come with it.
func recordAlert(t *testing.T, st store.Store, id int64, alerts []int64) {
	t.Helper()
	now := time.Now()
	ev := Event{Kind: "alert", MonitorID: id, Monitor: "down", Device: "mail1", Type: "tcp", State: "down", Code: "connect_failed", Time: now}
	must(t, st.RecordTest(context.Background(), store.Test{
		Result:        store.Result{MonitorID: id, Time: now, Status: probe.StatusDown, Code: probe.ConnectFailed},
		Status:        store.Status{MonitorID: id, Status: state.Status{State: state.Down, Failures: 1, AlertsSent: 1, Since: now}, LastTest: now},
		Notifications: Notifications(ev, now, 1, alerts),
	}))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
