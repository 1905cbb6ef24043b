package api

import (
	"testing"

	"github.com/mailmon/mailmon/internal/store"
)

// TestListStatusPages: GET /api/v1/status-pages lists the pages with
// their settings and address, to a token that may read; DELETE …/NAME
// deletes one, audited.
func TestListStatusPages(t *testing.T) {
	f := newFixture(t)
	p := &store.StatusPage{Name: "mail", Public: true, Spec: []byte(`{"title":"Mail","monitors":["mail1/SMTP"],"devices":["mail2"]}`)}
	if err := f.api.Store.PutStatusPage(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	code, out := f.do(t, "GET", "/api/v1/status-pages", nil, f.token)
	items, _ := out["items"].([]any)
	if code != 200 || len(items) != 1 || out["total"] != 1.0 {
		t.Fatalf("%d %v", code, out)
	}
	got := items[0].(map[string]any)
	if got["name"] != "mail" || got["title"] != "Mail" || got["public"] != true || got["url"] != "/status/mail" ||
		got["monitors"].([]any)[0] != "mail1/SMTP" || got["devices"].([]any)[0] != "mail2" {
		t.Errorf("%v", got)
	}
	if code, _ := f.do(t, "GET", "/api/v1/status-pages", nil, ""); code != 401 {
		t.Errorf("without a token: %d", code)
	}
	if code, _ := f.do(t, "DELETE", "/api/v1/status-pages/mail", nil, f.token); code != 204 {
		t.Errorf("delete: %d", code)
	}
	if code, _ := f.do(t, "DELETE", "/api/v1/status-pages/mail", nil, f.token); code != 404 {
		t.Errorf("delete again: %d", code)
	}
	if _, out := f.do(t, "GET", "/api/v1/status-pages", nil, f.token); out["total"] != 0.0 {
		t.Errorf("after the delete: %v", out)
	}
	code, out = f.do(t, "GET", "/api/v1/audit?kind=status_page", nil, f.token)
	if items, _ := out["items"].([]any); code != 200 || len(items) != 1 || items[0].(map[string]any)["action"] != "deleted" || items[0].(map[string]any)["name"] != "mail" {
		t.Errorf("audit: %d %v", code, out)
	}
}
