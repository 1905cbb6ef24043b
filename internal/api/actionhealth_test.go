package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/testutil/notify"
)

// TestAlertHealth: an alert's answer says how its deliveries go: when one
// last succeeded; for one whose receiver fails, the error and what waits.
func TestAlertHealth(t *testing.T) {
	f := newFixture(t)
	ok := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer ok.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer bad.Close()
	live, _ := f.id(t, "POST", "/api/v1/alerts", map[string]any{"settings": map[string]any{"name": "live", "webhook": map[string]any{"url": ok.URL + "/hook"}}}, 201)
	broken, _ := f.id(t, "POST", "/api/v1/alerts", map[string]any{"settings": map[string]any{"name": "broken", "webhook": map[string]any{"url": bad.URL + "/hook"}}}, 201)
	if _, out := f.do(t, "GET", "/api/v1/alerts/"+strconv.FormatInt(live, 10), nil, f.token); out["health"] != nil {
		t.Errorf("health before any delivery: %v", out["health"])
	}
	dev, _ := f.id(t, "POST", "/api/v1/devices", map[string]any{"name": "mail1", "address": "127.0.0.1"}, 201)
	m := &store.Monitor{DeviceID: dev, Name: "down", Type: "tcp", Enabled: false, Spec: []byte(`{"port":25}`)}
	if err := f.api.Store.PutMonitor(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	notify.Down(t, f.api.Store, m.ID, live, broken)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.api.Engine.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	health := func(id int64) map[string]any {
		_, out := f.do(t, "GET", "/api/v1/alerts/"+strconv.FormatInt(id, 10), nil, f.token)
		h, _ := out["health"].(map[string]any)
		return h
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, b := health(live), health(broken)
		if l != nil && l["last_success"] != nil && b != nil && b["last_error"] != nil {
			if l["sent"] != 1.0 || l["queued"] != 0.0 || l["last_error"] != nil {
				t.Errorf("the working action: %v", l)
			}
			if b["last_error"] != "webhook answered 502 Bad Gateway" || b["last_success"] != nil || b["queued"] != 1.0 || b["failed"].(float64) < 1 {
				t.Errorf("the failing action: %v", b)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health: %v, %v", l, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, out := f.do(t, "GET", "/api/v1/alerts", nil, f.token)
	for _, it := range out["items"].([]any) {
		if it.(map[string]any)["health"] == nil {
			t.Errorf("the list shows no health: %v", it)
		}
	}
}

// TestPagingAlertsOverAPI: a PagerDuty routing key and an Opsgenie API key
// are sealed like a webhook's URL (said to be set, never shown, kept when
// left out); a service URL is held to the egress policy.
func TestPagingAlertsOverAPI(t *testing.T) {
	f := newFixture(t)
	const key = "0123456789abcdefs3cretkey0123456"
	id, out := f.id(t, "POST", "/api/v1/alerts", map[string]any{"settings": map[string]any{"name": "pd", "pagerduty": map[string]any{"routing_key": key, "url": "https://events.example.com/v2/enqueue"}}}, 201)
	if out["kind"] != "pagerduty" || out["secrets"].(map[string]any)["pagerduty.routing_key"] != true {
		t.Errorf("created: %v", out)
	}
	path := "/api/v1/alerts/" + strconv.FormatInt(id, 10)
	f.id(t, "PUT", path, map[string]any{"settings": map[string]any{"name": "pd", "pagerduty": map[string]any{"url": "https://events.example.com/v2/enqueue"}}}, 200)
	f.do(t, "GET", path, nil, f.token)
	if strings.Contains(f.seen.String(), "s3cret") {
		t.Errorf("an answer carries the key:\n%s", f.seen.String())
	}
	a, _ := f.api.Store.Alert(t.Context(), id)
	if strings.Contains(string(a.Spec), "s3cret") || a.Secrets["pagerduty.routing_key"] == "" {
		t.Errorf("stored: %s %v", a.Spec, a.Secrets)
	}
	if code, out := f.do(t, "POST", "/api/v1/alerts", map[string]any{"settings": map[string]any{"name": "og", "opsgenie": map[string]any{}}}, f.token); code != 400 || !strings.Contains(fmt.Sprint(out), "opsgenie.api_key") {
		t.Errorf("an Opsgenie alert without its key: %d %v", code, out)
	}
	code, out := f.do(t, "POST", "/api/v1/alerts", map[string]any{"settings": map[string]any{"name": "am", "alertmanager": map[string]any{"url": "http://169.254.169.254:9093"}}}, f.token)
	if code != 400 || !strings.Contains(fmt.Sprint(out), "alertmanager.url") {
		t.Errorf("an Alertmanager on the metadata address: %d %v", code, out)
	}
}

// TestWebhookHeadersSealed: a templated webhook's headers are sealed (said
// to be set, never shown), and a new URL sent over the network without
// them drops them: they were given for the old one.
func TestWebhookHeadersSealed(t *testing.T) {
	f := newFixture(t)
	hook := map[string]any{"url": "https://hooks.example.test/a", "method": "PUT", "body": `{"m": {{json .Monitor}}}`,
		"headers": map[string]any{"Authorization": "Bearer s3cret-token"}}
	id, out := f.id(t, "POST", "/api/v1/alerts", map[string]any{"settings": map[string]any{"name": "tpl", "webhook": hook}}, 201)
	if out["secrets"].(map[string]any)["webhook.headers.Authorization"] != true {
		t.Errorf("created: %v", out)
	}
	path := "/api/v1/alerts/" + strconv.FormatInt(id, 10)
	f.do(t, "GET", path, nil, f.token)
	a, _ := f.api.Store.Alert(t.Context(), id)
	if strings.Contains(f.seen.String(), "s3cret") || strings.Contains(string(a.Spec), "s3cret") || !strings.Contains(string(a.Spec), "json .Monitor") {
		t.Errorf("the header shows, or the body is lost: %s\n%s", a.Spec, f.seen.String())
	}
	_, out = f.id(t, "PUT", path, map[string]any{"settings": map[string]any{"name": "tpl", "webhook": map[string]any{"url": "https://hooks.example.test/b"}}}, 200)
	if fmt.Sprint(out["secrets_dropped"]) != "[webhook.headers.Authorization]" {
		t.Errorf("a new URL without the header: %v", out)
	}
}
