package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
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
