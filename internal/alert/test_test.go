package alert

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestTestAlert: a test alert goes out through the alert's action, marked
// as a test in the payload, the Slack text and the e-mail subject; a
// second and third in a row are refused for a while.
func TestTestAlert(t *testing.T) {
	got := make(chan []byte, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		got <- b
	}))
	defer srv.Close()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	clock := now
	v, _ := vault.New([]byte("engine-test-key-0123456789"))
	ob := NewOutbox(OutboxOptions{Now: func() time.Time { return clock }, Actions: &Actions{Vault: v}})
	a := webhookAlert(t, v, srv.URL+"/s3cret-path", "generic")
	if err := ob.Test(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	var p GenericPayload
	if err := json.Unmarshal(<-got, &p); err != nil {
		t.Fatal(err)
	}
	if p.Event != "test" || p.State != "test" || !strings.Contains(p.Error.Message, "test") {
		t.Errorf("payload %+v, want it marked as a test", p)
	}
	if err := ob.Test(context.Background(), a); err != nil {
		t.Fatalf("second (the burst): %v", err)
	}
	<-got
	if err := ob.Test(context.Background(), a); !errors.Is(err, ErrTestTooSoon) {
		t.Errorf("third at once: %v, want ErrTestTooSoon", err)
	}
	clock = clock.Add(TestEvery)
	if err := ob.Test(context.Background(), a); err != nil {
		t.Errorf("after %v: %v", TestEvery, err)
	}
	<-got

	slack, err := (&Webhook{Format: FormatSlack}).Payload(TestEvent(a, now))
	if err != nil || !strings.Contains(string(slack), "[test]") {
		t.Errorf("slack text %s %v", slack, err)
	}
	msg := string((&Email{From: "a@example.test", To: []string{"b@example.test"}}).Message(TestEvent(a, now), now))
	if !strings.Contains(msg, "Subject: [test] [mailmon] test alert") {
		t.Errorf("e-mail:\n%s", msg)
	}
}

// webhookAlert is a stored webhook alert, its URL sealed.
func webhookAlert(t *testing.T, v *vault.Vault, url, format string) *store.Alert {
	t.Helper()
	sealed, err := v.Seal([]byte(url), vault.AlertRecord(7, "webhook.url"))
	if err != nil {
		t.Fatal(err)
	}
	return &store.Alert{ID: 7, Name: "ops", Kind: "webhook", Spec: json.RawMessage(`{"name":"ops","webhook":{"format":"` + format + `"}}`),
		Secrets: map[string]string{"webhook.url": sealed}}
}
