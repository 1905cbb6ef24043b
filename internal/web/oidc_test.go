package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/testutil/fakeidp"
)

// withSSO gives the fixture single sign-on at a provider of its own.
func (f *fixture) withSSO(t *testing.T) *fakeidp.IdP {
	t.Helper()
	cb := f.srv.URL + "/login/oidc/callback"
	idp := fakeidp.Start(t, cb, map[string][]string{fakeidp.Admin: {"staff", "mailmon-admins"}, fakeidp.Other: {"helpdesk"}})
	f.web.SSO = &SSO{Issuer: idp.Issuer, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret, RedirectURL: cb,
		Roles: map[string]catalog.Role{"mailmon-admins": catalog.Admin, "helpdesk": catalog.Viewer}}
	return idp
}

// atProvider starts a single sign-on login with b and logs in at the
// provider as user; it returns the provider's answer, the callback's URL,
// not yet followed.
func atProvider(t *testing.T, b *browser, user string) *url.URL {
	t.Helper()
	c := *b.c
	var back *url.URL
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == "/login/oidc/callback" {
			back = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := c.Get(b.base + "/login/oidc?next=/devices")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Request.URL.Query().Get("authRequestID")
	if resp.StatusCode != http.StatusOK || id == "" {
		t.Fatalf("the provider's login page: %d %s", resp.StatusCode, resp.Request.URL)
	}
	login := *resp.Request.URL
	login.RawQuery = ""
	resp, err = c.PostForm(login.String(), url.Values{"id": {id}, "username": {user}, "password": {fakeidp.Password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if back == nil || back.Query().Get("code") == "" {
		t.Fatalf("the provider did not send back a code: %d %s", resp.StatusCode, resp.Request.URL)
	}
	return back
}

func (b *browser) follow(t *testing.T, u *url.URL) (int, string) {
	t.Helper()
	return b.get(t, u.RequestURI())
}

// TestSingleSignOn: a login at the provider lands with the role its
// groups map to; the user is kept as a login without a password.
func TestSingleSignOn(t *testing.T) {
	f := newFixture(t, false)
	idp := f.withSSO(t)
	for _, c := range []struct {
		user, name string
		role       catalog.Role
	}{{"test-user@127.0.0.1", "test-user@127.0.0.1", catalog.Admin}, {"test-user2", "test-user2", catalog.Viewer}} {
		b := f.browser(t)
		code, _ := b.follow(t, atProvider(t, b, c.user))
		if code != http.StatusSeeOther {
			t.Fatalf("%s: the callback: %d", c.user, code)
		}
		if code, page := b.get(t, "/devices"); code != http.StatusOK || !strings.Contains(page, `<small class="role">`+string(c.role)) {
			t.Errorf("%s: landed %d, want role %s", c.user, code, c.role)
		}
		u, err := f.st.UserByName(context.Background(), c.name)
		if err != nil || u.Role != string(c.role) || u.Hash != "" || !strings.HasPrefix(u.External, idp.Issuer+" ") {
			t.Errorf("%s: stored %+v %v", c.user, u, err)
		}
		b.get(t, "/devices")
		if code, _, _ := b.post(t, "/logout", url.Values{}, nil); code != http.StatusSeeOther {
			t.Errorf("log out: %d", code)
		}
		if code, _ := b.get(t, "/devices"); code != http.StatusSeeOther {
			t.Errorf("after logging out: %d", code)
		}
	}
}

// TestSingleSignOnRefusesTampering: an answer whose state is not the
// browser's, an ID token whose nonce is not the login's, an answer to
// another browser, and a local user's name are all refused.
func TestSingleSignOnRefusesTampering(t *testing.T) {
	f := newFixture(t, false)
	f.withSSO(t)
	refused := func(what string, b *browser, u *url.URL, want string) {
		t.Helper()
		code, page := b.follow(t, u)
		if code != http.StatusForbidden || !strings.Contains(page, want) {
			t.Errorf("%s: %d %.300s", what, code, page)
		}
		if code, _ := b.get(t, "/devices"); code != http.StatusSeeOther {
			t.Errorf("%s: logged in (%d)", what, code)
		}
	}
	b := f.browser(t)
	back := atProvider(t, b, "test-user2")
	q := back.Query()
	q.Set("state", q.Get("state")+"x")
	back.RawQuery = q.Encode()
	refused("a tampered state", b, back, "state is not this login")

	b = f.browser(t)
	back = atProvider(t, b, "test-user2")
	f.web.mu.Lock()
	for k, p := range f.web.ssoPending {
		p.nonce += "x" // as if the token were minted for another login
		f.web.ssoPending[k] = p
	}
	f.web.mu.Unlock()
	refused("a tampered nonce", b, back, "nonce is not this login")

	back = atProvider(t, f.browser(t), "test-user2")
	refused("another browser's answer", f.browser(t), back, "started no login")

	// The provider's "test-user2" meets a local user of that name.
	if _, err := AddUser(context.Background(), f.web.Catalog, catalog.Operator, "test-user2", testPassword, catalog.Viewer, 4); err != nil {
		t.Fatal(err)
	}
	b = f.browser(t)
	refused("a local user's name", b, atProvider(t, b, "test-user2"), "a local user is named")
}

// TestLocalLoginsOff: with local logins off, the password form is gone
// and a posted password is refused, single sign-on still works.
func TestLocalLoginsOff(t *testing.T) {
	f := newFixture(t, false)
	f.withSSO(t)
	f.web.NoLocalLogins = true
	b := f.browser(t)
	if _, page := b.get(t, "/login"); strings.Contains(page, `id="password"`) || !strings.Contains(page, `id="sso"`) {
		t.Errorf("the login page: %.500s", page)
	}
	base, _ := url.Parse(f.srv.URL)
	tok := ""
	for _, ck := range b.c.Jar.Cookies(base) {
		if ck.Name == loginCookie {
			tok = ck.Value
		}
	}
	code, page, _ := b.post(t, "/login", url.Values{"csrf": {tok}, "name": {"admin"}, "password": {testPassword}}, nil)
	if code != http.StatusForbidden || !strings.Contains(page, "Local logins are off") {
		t.Errorf("a local login: %d %.300s", code, page)
	}
	if code, _ := b.follow(t, atProvider(t, b, "test-user@127.0.0.1")); code != http.StatusSeeOther {
		t.Errorf("single sign-on: %d", code)
	}
}
