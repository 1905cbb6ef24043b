package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/mailmon/mailmon/internal/alert"
)

// TestTestAlertRoute: POST /api/v1/alerts/{id}/test delivers a test event
// to the alert's receiver at once, then refuses a flood (429), and says
// 404 for no such alert.
func TestTestAlertRoute(t *testing.T) {
	f := newFixture(t)
	got := make(chan alert.GenericPayload, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p alert.GenericPayload
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		json.Unmarshal(b, &p)
		got <- p
	}))
	defer hook.Close()
	id, _ := f.id(t, "POST", "/api/v1/alerts", map[string]any{"settings": map[string]any{"name": "ops", "webhook": map[string]any{"url": hook.URL + "/s3cret", "format": "generic"}}}, 201)
	path := "/api/v1/alerts/" + strconv.FormatInt(id, 10) + "/test"
	code, out := f.do(t, "POST", path, nil, f.token)
	if code != http.StatusOK || out["sent"] != true {
		t.Fatalf("test alert: %d %v", code, out)
	}
	if p := <-got; p.Event != "test" || p.State != "test" || p.Monitor != "test alert ops" {
		t.Errorf("the receiver got %+v, want an event marked as a test", p)
	}
	f.do(t, "POST", path, nil, f.token)
	<-got
	if code, out := f.do(t, "POST", path, nil, f.token); code != http.StatusTooManyRequests {
		t.Errorf("a third at once: %d %v, want 429", code, out)
	}
	if code, _ := f.do(t, "POST", "/api/v1/alerts/999999/test", nil, f.token); code != http.StatusNotFound {
		t.Errorf("no such alert: %d", code)
	}
}
