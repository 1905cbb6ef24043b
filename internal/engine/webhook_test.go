package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/vault"
)

// syncBuffer is a log that the outbox writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

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
	rcv := &hook{}
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
		spec, _ := json.Marshal(config.Alert{Name: name, Webhook: &config.Webhook{URL: config.Secret{Value: u}}})
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
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln2.Addr().(*net.TCPAddr).Port
	ln2.Close()
	mspec, _ := json.Marshal(config.Monitor{Port: closed, Notify: config.Notify{FailuresPerAlert: 1}})
	m := &store.Monitor{DeviceID: d.ID, Name: "down", Type: "tcp", Enabled: true, Spec: mspec}
	must(t, st.PutMonitor(ctx, m))
	must(t, st.SetMonitorAlerts(ctx, m.ID, ids))

	var log syncBuffer
	e := New(Options{Store: st, Vault: v, OutboxEvery: 20 * time.Millisecond, Log: slog.New(slog.NewTextHandler(&log, nil))})
	must(t, e.Load(ctx))
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	if _, err := e.TestNow(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ns, _ := st.Notifications(ctx, m.ID, 10)
		tried := 0
		for _, n := range ns {
			if n.Attempts > 0 {
				tried++
			}
		}
		if tried == 2 && len(rcv.kinds()) == 1 {
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
			t.Fatalf("deliveries: %+v, received %v", ns, rcv.kinds())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(log.String(), "alert delivery failed") || strings.Contains(log.String(), "s3cret") {
		t.Errorf("the log:\n%s", log.String())
	}
}
