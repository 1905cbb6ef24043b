package metrics

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/testutil/notify"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestAlertActionHealth: each alert action's deliveries are on /metrics:
// attempts by result, the last success and failure, what is queued.
func TestAlertActionHealth(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, _ := vault.New([]byte("metrics-test-key-0123456789"))
	ok := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer ok.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer bad.Close()
	var ids []int64
	for name, u := range map[string]string{"live": ok.URL, "broken": bad.URL} {
		spec, _ := json.Marshal(config.Alert{Name: name, Webhook: &config.Webhook{}})
		a := &store.Alert{Name: name, Kind: "webhook", Spec: spec}
		if err := st.PutAlert(ctx, a); err != nil {
			t.Fatal(err)
		}
		sealed, _ := v.Seal([]byte(u), vault.AlertRecord(a.ID, "webhook.url"))
		a.Secrets = map[string]string{"webhook.url": sealed}
		st.PutAlert(ctx, a)
		ids = append(ids, a.ID)
	}
	d := &store.Device{Name: "mail1", Address: "127.0.0.1"}
	st.PutDevice(ctx, d)
	m := &store.Monitor{DeviceID: d.ID, Name: "down", Type: "tcp", Spec: []byte(`{"port":25}`)}
	st.PutMonitor(ctx, m)
	notify.Down(t, st, m.ID, ids...)
	e := engine.New(engine.Options{Store: st, Vault: v, OutboxEvery: 20 * time.Millisecond})
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	want := []string{
		`mailmon_alert_deliveries_total{alert="live",result="sent"} 1`,
		`mailmon_alert_deliveries_total{alert="live",result="failed"} 0`,
		`mailmon_alert_queued{alert="live"} 0`,
		`mailmon_alert_last_success_timestamp_seconds{alert="live"}`,
		`mailmon_alert_queued{alert="broken"} 1`,
		`mailmon_alert_last_failure_timestamp_seconds{alert="broken"}`,
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := scrape(t, e)
		missing := ""
		for _, w := range want {
			if !strings.Contains(out, w) {
				missing = w
			}
		}
		if missing == "" {
			if strings.Contains(out, `mailmon_alert_last_success_timestamp_seconds{alert="broken"}`) {
				t.Error("the failing action has a success")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s in\n%s", missing, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
