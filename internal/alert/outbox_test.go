package alert

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/testutil/syncbuf"
)

// TestWebhookURLStaysSealed: a webhook's URL is a secret. It is delivered
// to from its sealed value, and a failed delivery's stored error and log
// carry its host at most, never its path.
func TestWebhookURLStaysSealed(t *testing.T) {
	f := newQueueFixture(t)
	rcv := &receiver{}
	hs := httptest.NewServer(rcv)
	defer hs.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	const path = "/services/T0/B0/s3cret-path"
	spec, _ := json.Marshal(config.Alert{Name: "live", Webhook: &config.Webhook{URL: config.SecretRef{Value: hs.URL + path}}})
	if strings.Contains(string(spec), "s3cret") {
		t.Fatalf("the URL is in the settings: %s", spec)
	}
	m := f.down(f.webhook("live", hs.URL+path), f.webhook("dead", dead+path))
	st := f.st
	ctx := context.Background()

	var log syncbuf.Buffer
	f.run(OutboxOptions{Log: slog.New(slog.NewTextHandler(&log, nil))})
	deadline := time.Now().Add(5 * time.Second)
	for {
		ns, _ := st.Notifications(ctx, m, 10)
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

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
