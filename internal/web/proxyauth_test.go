package web

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/catalog"
)

// asProxied is a GET with the header an authenticating proxy sets.
func (b *browser) asProxied(t *testing.T, path, user string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", b.base+path, nil)
	req.Header.Set("Remote-User", user)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestTrustedHeader: Remote-User is believed from a trusted proxy only; it
// logs in a known user with their role, a new one only with a role set
// for them, and a change of user gets a session of its own.
func TestTrustedHeader(t *testing.T) {
	f := newFixture(t, false)
	f.asRole(t, catalog.Viewer) // u-viewer
	f.asRole(t, catalog.Editor) // u-editor
	f.web.UserHeader = "Remote-User"

	untrusted, _ := ParseProxies("10.9.9.9")
	f.web.Proxies = untrusted
	if code, _ := f.browser(t).asProxied(t, "/devices", "u-editor"); code != http.StatusSeeOther {
		t.Errorf("the header from a peer that is not a trusted proxy: %d, want the login", code)
	}

	trusted, _ := ParseProxies("127.0.0.1/32,::1")
	f.web.Proxies = trusted
	b := f.browser(t)
	code, page := b.asProxied(t, "/devices", "u-viewer")
	if code != http.StatusOK || !strings.Contains(page, `<small class="role">viewer`) {
		t.Fatalf("a known user through the proxy: %d", code)
	}
	if code, page := b.asProxied(t, "/devices", "u-editor"); code != http.StatusOK || !strings.Contains(page, `<small class="role">editor`) {
		t.Errorf("another user through the same browser: %d", code)
	}
	if code, _ := f.browser(t).asProxied(t, "/devices", "stranger"); code != http.StatusForbidden {
		t.Errorf("an unknown user without --auth-header-role: %d", code)
	}
	f.web.UserHeaderRole = catalog.Viewer
	if code, _ := f.browser(t).asProxied(t, "/devices", "stranger"); code != http.StatusOK {
		t.Errorf("an unknown user with --auth-header-role viewer: %d", code)
	}
	if u, err := f.st.UserByName(context.Background(), "stranger"); err != nil || u.Role != "viewer" || u.Hash != "" || u.External != "proxy" {
		t.Errorf("the user made: %+v %v", u, err)
	}
}
