package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/store"
)

// TestEveryRouteEveryScope enumerates the router's own table: a token
// whose scopes cover a route's gets past the check, any other gets 403
// naming the scope, and a write refused leaves nothing behind.
func TestEveryRouteEveryScope(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tokens := map[catalog.Scopes]string{}
	for _, sc := range []catalog.Scopes{catalog.ScopeRead, catalog.ScopeWrite, catalog.ScopeProbe, catalog.ScopeMetrics, catalog.AllScopes &^ catalog.ScopeWrite} {
		tok := NewToken()
		if err := f.api.Store.PutToken(ctx, &store.Token{Name: "t-" + strings.ReplaceAll(sc.String(), ",", "-"), Hash: HashToken(tok), Scopes: sc.Names()}); err != nil {
			t.Fatal(err)
		}
		tokens[sc] = tok
	}
	id, _ := f.id(t, "POST", "/api/v1/devices", map[string]any{"name": "d", "address": "127.0.0.1"}, 201)
	path := func(p string) string { return strings.ReplaceAll(p, "{id}", "99999") }
	for _, rt := range f.api.Routes() {
		if rt.Public {
			continue
		}
		if rt.Scope == 0 {
			t.Errorf("%s %s needs no scope", rt.Method, rt.Path)
		}
		for sc, tok := range tokens {
			code, body := f.do(t, rt.Method, path(rt.Path), map[string]any{}, tok)
			allowed := sc.Has(rt.Scope)
			switch {
			case allowed && (code == http.StatusForbidden || code == http.StatusUnauthorized):
				t.Errorf("%s %s with scopes %s: %d %v", rt.Method, rt.Path, sc, code, body)
			case !allowed && (code != http.StatusForbidden || !strings.Contains(body["error"].(string), rt.Scope.String()+" scope")):
				t.Errorf("%s %s with scopes %s: %d %v, want 403 naming the %s scope", rt.Method, rt.Path, sc, code, body, rt.Scope)
			}
		}
	}
	if d, err := f.api.Store.Device(ctx, id); err != nil || d.Name != "d" {
		t.Errorf("the device after the refused writes: %+v %v", d, err)
	}
}

// TestTokenExpires: an expired token is refused (401) and says so.
func TestTokenExpires(t *testing.T) {
	f := newFixture(t)
	tok := NewToken()
	if err := f.api.Store.PutToken(context.Background(), &store.Token{Name: "old", Hash: HashToken(tok), Scopes: []string{"read"},
		Expires: time.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if code, body := f.do(t, "GET", "/api/v1/devices", nil, tok); code != http.StatusUnauthorized || !strings.Contains(body["error"].(string), "expired") {
		t.Errorf("an expired token: %d %v", code, body)
	}
}

// TestAuditOverTheAPI: a change through the API names its token and the
// caller's address, never the secret; the log filters and pages.
func TestAuditOverTheAPI(t *testing.T) {
	f := newFixture(t)
	id, _ := f.id(t, "POST", "/api/v1/credentials", map[string]any{"name": "ops", "user": "root", "password": "Aud1tSecretPw",
		"known_host": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"}, 201)
	f.id(t, "POST", "/api/v1/devices", map[string]any{"name": "mail1", "address": "127.0.0.1"}, 201)
	code, out := f.do(t, "GET", "/api/v1/audit?kind=credential", nil, f.token)
	items, _ := out["items"].([]any)
	if code != http.StatusOK || len(items) != 1 || out["total"].(float64) != 1 {
		t.Fatalf("audit: %d %v", code, out)
	}
	e := items[0].(map[string]any)
	if e["actor"] != "test" || e["actor_kind"] != "token" || e["address"] != "127.0.0.1" || e["action"] != "created" || e["object_id"].(float64) != float64(id) {
		t.Errorf("entry: %v", e)
	}
	if !strings.Contains(f.seen.String(), `"field":"password","after":"changed"`) {
		t.Errorf("the password's change is not shown: %v", e)
	}
	if strings.Contains(f.seen.String(), "Aud1tSecretPw") {
		t.Error("a secret in an answer")
	}
	if code, out := f.do(t, "GET", "/api/v1/audit?limit=1&offset=1", nil, f.token); code != http.StatusOK || len(out["items"].([]any)) != 1 || out["total"].(float64) != 2 {
		t.Errorf("paging: %d %v", code, out)
	}
	if code, out := f.do(t, "GET", "/api/v1/audit?from=yesterday", nil, f.token); code != http.StatusBadRequest || out["fields"].(map[string]any)["from"] == nil {
		t.Errorf("a bad filter: %d %v", code, out)
	}
}
