package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/store"
)

// asRole is a browser logged in as a new user of role.
func (f *fixture) asRole(t *testing.T, role catalog.Role) *browser {
	t.Helper()
	name := "u-" + string(role)
	if _, err := f.st.UserByName(context.Background(), name); err != nil {
		if _, err := AddUser(context.Background(), f.web.Catalog, catalog.Operator, name, testPassword, role, bcrypt.MinCost); err != nil {
			t.Fatal(err)
		}
	}
	b := f.browser(t)
	if code := b.login(t, name, testPassword); code != http.StatusSeeOther {
		t.Fatalf("login as %s: %d", role, code)
	}
	return b
}

// status is a route's answer to b: a page's status, or a stream's once
// it starts.
func (b *browser) status(t *testing.T, method, path string) int {
	t.Helper()
	if method == "GET" && path == "/events" {
		resp, err := b.c.Get(b.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if method == "GET" {
		code, _ := b.get(t, path)
		return code
	}
	code, _, _ := b.post(t, path, url.Values{}, nil)
	return code
}

// TestEveryRouteEveryRole enumerates the UI's route table: each role gets
// past the check of every route its role allows, and 403 from every
// other, whatever the route's handler would do.
func TestEveryRouteEveryRole(t *testing.T) {
	f := newFixture(t, false)
	for _, rt := range f.web.Routes() {
		if rt.Public {
			continue
		}
		if rt.Role == "" {
			t.Errorf("%s %s needs no role", rt.Method, rt.Path)
			continue
		}
		for _, role := range catalog.Roles {
			b := f.asRole(t, role) // a session each: a route may end it (log out)
			code := b.status(t, rt.Method, concrete(rt.Path, 99999))
			switch allowed := role.Allows(rt.Role); {
			case allowed && (code == http.StatusForbidden || code == http.StatusUnauthorized):
				t.Errorf("%s %s as %s: %d", rt.Method, rt.Path, role, code)
			case !allowed && code != http.StatusForbidden:
				t.Errorf("%s %s as %s: %d, want 403", rt.Method, rt.Path, role, code)
			}
		}
	}
}

// TestPagesShowWhatTheRoleMay: a viewer sees no form that changes
// anything, an editor no admin's page; an admin sees them all.
func TestPagesShowWhatTheRoleMay(t *testing.T) {
	f := newFixture(t, false)
	d, m := f.seed(t, "mail1", "imap", "")
	pages := []string{"/", "/devices", concrete("/devices/{id}", d.ID), concrete("/monitors/{id}", m.ID), "/alerts"}
	editing := []string{`id="add-device"`, `id="add-monitor"`, `id="edit-monitor"`, `id="test-now"`, `id="add-alert"`, `action="/devices/`}
	admins := []string{`href="/credentials"`, `href="/users"`, `href="/tokens"`, `href="/audit"`, `id="monitor-audit"`}
	for _, role := range catalog.Roles {
		b := f.asRole(t, role)
		var all strings.Builder
		for _, p := range pages {
			code, body := b.get(t, p)
			if code != http.StatusOK {
				t.Fatalf("%s as %s: %d", p, role, code)
			}
			all.WriteString(body)
		}
		for _, want := range editing {
			if strings.Contains(all.String(), want) != role.Allows(catalog.Editor) {
				t.Errorf("%s: %s shown %v", role, want, !role.Allows(catalog.Editor))
			}
		}
		for _, want := range admins {
			if strings.Contains(all.String(), want) != role.Allows(catalog.Admin) {
				t.Errorf("%s: %s shown %v", role, want, !role.Allows(catalog.Admin))
			}
		}
	}
}

// TestAdminManagesRolesAndTokens: an admin gives a role, makes a token
// (shown once, with its scopes) and revokes it; the audit page names who
// did each, and never a secret.
func TestAdminManagesRolesAndTokens(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	f.asRole(t, catalog.Viewer)
	helpdesk, _ := f.st.UserByName(ctx, "u-viewer")
	b := f.loggedIn(t)
	b.get(t, "/users")
	if code, _, _ := b.post(t, concrete("/users/{id}/role", helpdesk.ID), url.Values{"role": {"editor"}}, nil); code != http.StatusSeeOther {
		t.Fatalf("set role: %d", code)
	}
	if u, _ := f.st.User(ctx, helpdesk.ID); u.Role != "editor" {
		t.Errorf("role = %q", u.Role)
	}
	b.get(t, "/tokens")
	code, body, _ := b.post(t, "/tokens", url.Values{"name": {"prometheus"}, "scope": {"metrics"}, "expires": {"90d"}}, nil)
	tok := between(body, `<code id="new-token">`, `</code>`)
	if code != http.StatusOK || !strings.HasPrefix(tok, "mm_") {
		t.Fatalf("make a token: %d %.300s", code, body)
	}
	got, err := f.st.TokenByHash(ctx, catalog.HashToken(tok))
	if err != nil || strings.Join(got.Scopes, ",") != "metrics" || got.Expires.IsZero() {
		t.Fatalf("the token: %+v %v", got, err)
	}
	if _, body := b.get(t, "/tokens"); strings.Contains(body, tok) || !strings.Contains(body, `data-token="prometheus"`) {
		t.Error("the token is shown again, or not listed")
	}
	if code, _, _ := b.post(t, concrete("/tokens/{id}/delete", got.ID), url.Values{}, nil); code != http.StatusSeeOther {
		t.Errorf("revoke: %d", code)
	}
	if _, err := f.st.TokenByHash(ctx, catalog.HashToken(tok)); err == nil {
		t.Error("the revoked token is kept")
	}
	_, audit := b.get(t, "/audit")
	for _, want := range []string{`data-kind="user" data-name="u-viewer"`, `data-kind="token" data-name="prometheus"`, "admin"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit page has no %s", want)
		}
	}
	if strings.Contains(audit, tok) || strings.Contains(audit, got.Hash) {
		t.Error("the audit page shows the token")
	}
	es, _, _ := f.st.Audit(ctx, store.AuditFilter{Kind: "token"})
	if len(es) != 2 || es[0].Actor != "admin" || es[0].Action != "deleted" || es[1].Action != "created" {
		t.Errorf("token entries: %+v", es)
	}
}

func between(s, from, to string) string {
	_, s, _ = strings.Cut(s, from)
	s, _, _ = strings.Cut(s, to)
	return s
}

// TestWhoChangedThisMonitor: the monitor's page leads an admin to its
// changes, naming who made each.
func TestWhoChangedThisMonitor(t *testing.T) {
	f := newFixture(t, false)
	_, m := f.seed(t, "mail1", "imap", "")
	b := f.loggedIn(t)
	_, page := b.get(t, concrete("/monitors/{id}", m.ID))
	link := between(page, `href="/audit?`, `"`)
	if link == "" {
		t.Fatal("no link to the monitor's changes")
	}
	code, audit := b.get(t, "/audit?"+strings.ReplaceAll(link, "&amp;", "&"))
	if code != http.StatusOK || !strings.Contains(audit, `data-kind="monitor" data-name="mail1/imap"`) || !strings.Contains(audit, ">admin</a>") ||
		strings.Contains(audit, `data-kind="device"`) {
		t.Errorf("the monitor's changes: %d %.1500s", code, audit)
	}
}

// TestFormSaveIsAudited: a change made with a form names the session's
// user and address, and never the secret the form sent.
func TestFormSaveIsAudited(t *testing.T) {
	f := newFixture(t, false)
	b := f.loggedIn(t)
	b.get(t, "/credentials")
	const secret = "F0rmSecretPassw0rd"
	code, body, _ := b.post(t, "/credentials", url.Values{"name": {"ops"}, "user": {"root"}, "password": {secret},
		"known_host": {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"}}, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("save: %d %.300s", code, body)
	}
	es, _, err := f.st.Audit(context.Background(), store.AuditFilter{Kind: "credential"})
	if err != nil || len(es) != 1 || es[0].Actor != "admin" || es[0].ActorKind != "user" || es[0].Address != "127.0.0.1" || es[0].Action != "created" {
		t.Fatalf("entries: %+v %v", es, err)
	}
	_, page := b.get(t, "/audit?kind=credential")
	if !strings.Contains(page, `data-name="ops"`) || !strings.Contains(page, "<code>password</code>: changed") || strings.Contains(page, secret) {
		t.Errorf("the audit page: %.2000s", page)
	}
}
