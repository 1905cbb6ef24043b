package api

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/engine"
)

// TestWebhookURLWriteOnly: a webhook's URL is sealed like a password: no
// answer carries it (only its scheme and host), an update without it
// keeps it, and it is given as a string only.
func TestWebhookURLWriteOnly(t *testing.T) {
	f := newFixture(t)
	const u = "https://hooks.example.test/services/T0/B0/s3cret-path"
	id, out := f.id(t, "POST", "/api/v1/alerts", map[string]any{"settings": map[string]any{"name": "ops", "webhook": map[string]any{"url": u, "format": "slack"}}}, 201)
	if out["webhook_origin"] != "https://hooks.example.test" || out["secrets"].(map[string]any)["webhook.url"] != true {
		t.Errorf("created: %v", out)
	}
	path := "/api/v1/alerts/" + strconv.FormatInt(id, 10)
	f.id(t, "PUT", path, map[string]any{"settings": map[string]any{"name": "ops", "webhook": map[string]any{"format": "teams"}}}, 200)
	f.do(t, "GET", path, nil, f.token)
	f.do(t, "GET", "/api/v1/alerts", nil, f.token)
	if strings.Contains(f.seen.String(), "s3cret") {
		t.Errorf("an answer carries the URL:\n%s", f.seen.String())
	}
	a, _ := f.api.Store.Alert(t.Context(), id)
	if strings.Contains(string(a.Spec), "s3cret") {
		t.Errorf("the URL is stored in the clear: %s", a.Spec)
	}
	if pt, err := f.api.Vault.Open(a.Secrets["webhook.url"], engine.AlertRecord(id, "webhook.url")); err != nil || string(pt) != u {
		t.Errorf("an update without the URL lost it: %q %v", pt, err)
	}
	for _, bad := range []map[string]any{
		{"name": "x", "webhook": map[string]any{"format": "generic"}},                                // none
		{"name": "x", "webhook": map[string]any{"url": map[string]any{"env": "MAILMON_SECRET_KEY"}}}, // never read here
		{"name": "x", "webhook": map[string]any{"url": "ftp://hooks.example.test/s3cret-path"}},
	} {
		code, out := f.do(t, "POST", "/api/v1/alerts", map[string]any{"settings": bad}, f.token)
		if code != http.StatusBadRequest || strings.Contains(f.seen.String(), "s3cret") {
			t.Errorf("%v: %d %v", bad, code, out)
		}
	}
}
