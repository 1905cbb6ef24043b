package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/mailmon/mailmon/internal/api"
	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/vault"
)

// clock is a settable clock for session expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	st    store.Store
	api   *api.Server
	web   *Server
	srv   *httptest.Server
	clock *clock
}

const testPassword = "correct horse battery"

// newFixture serves the UI and the API as serve does, with a user
// "admin"; withEngine runs the scheduler too.
func newFixture(t *testing.T, withEngine bool) *fixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := vault.New([]byte("web-test-key-0123456789abcdef"))
	f := &fixture{st: st, clock: &clock{t: time.Now()}}
	// Its targets are fake servers on loopback: serve --allow-targets 127.0.0.1/32,::1 and the
	// example addresses and names its records use.
	allowed, err := egress.Parse([]string{"127.0.0.1/32", "::1", "10.0.0.0/8", "192.0.2.1/32", "*.example.test", "*.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	var e *engine.Engine
	if withEngine {
		e = engine.New(engine.Options{Store: st, Vault: v, InstallationKey: []byte("web-test-secret-0123456789"), Egress: allowed})
		if err := e.Load(ctx); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { e.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	cat := &catalog.Catalog{Store: st, Vault: v, Egress: allowed}
	f.api = &api.Server{Store: st, Engine: e, Vault: v, Egress: allowed, Catalog: cat} // serve's API beside the UI
	f.web = &Server{Store: st, Engine: e, Catalog: cat, BcryptCost: bcrypt.MinCost, Now: f.clock.Now, Heartbeat: 50 * time.Millisecond}
	mux := http.NewServeMux()
	mux.Handle("/", f.api.Handler())
	f.web.Register(mux)
	f.srv = httptest.NewServer(Headers(mux, false))
	t.Cleanup(func() { f.srv.Close(); cancel(); st.Close() })
	if _, err := AddUser(ctx, &catalog.Catalog{Store: st}, catalog.Operator, "admin", testPassword, catalog.Admin, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	return f
}

// asAdmin is the origin of the setup's saves: the fixture's admin.
var asAdmin = catalog.Network.As(catalog.User("admin", catalog.Admin, "127.0.0.1"))

// saveDevice, saveMonitor, saveAlert and saveCredential save as the forms
// do (save.go), for a test's setup.
func (f *fixture) saveDevice(ctx context.Context, id int64, name, address string) (*store.Device, error) {
	d, _, err := f.web.saveDevice(ctx, asAdmin, id, deviceForm{Name: name, Address: address}, nil)
	return d, err
}

func (f *fixture) saveMonitor(ctx context.Context, id int64, in catalog.Monitor) (*store.Monitor, error) {
	m, _, err := f.web.saveMonitor(ctx, asAdmin, id, in)
	return m, err
}

func (f *fixture) saveAlert(ctx context.Context, id int64, a config.Alert, relayPassword *string) (*store.Alert, error) {
	saved, _, err := f.web.Catalog.SaveAlert(ctx, asAdmin, id, catalog.Alert{Settings: a, RelayPassword: relayPassword})
	return saved, err
}

func (f *fixture) saveCredential(ctx context.Context, id int64, in catalog.Credential) (*store.Credential, error) {
	c, res, err := f.web.Catalog.SaveCredential(ctx, asAdmin, id, in)
	if err != nil {
		return nil, err
	}
	return c, f.web.tell(ctx, res)
}

// browser is a logged-in (or not) client that does not follow redirects.
type browser struct {
	c    *http.Client
	base string
	csrf string
}

func (f *fixture) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{base: f.srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func (b *browser) get(t *testing.T, path string) (int, string) {
	t.Helper()
	code, body, _ := b.fetch(t, path)
	if m := csrfRE.FindStringSubmatch(body); m != nil {
		b.csrf = m[1]
	}
	return code, body
}

// fetch gets a path with b's cookies: the status, body and headers.
func (b *browser) fetch(t *testing.T, path string) (int, string, http.Header) {
	t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

// post sends a form (with the page's CSRF token unless the form has one).
func (b *browser) post(t *testing.T, path string, form url.Values, hdr map[string]string) (int, string, *http.Response) {
	t.Helper()
	if _, ok := form["csrf"]; !ok && b.csrf != "" {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, string(body), resp
}

func (b *browser) login(t *testing.T, name, pw string) int {
	t.Helper()
	b.get(t, "/login")
	code, _, _ := b.post(t, "/login", url.Values{"name": {name}, "password": {pw}, "next": {"/"}}, nil)
	if code == http.StatusSeeOther {
		b.get(t, "/") // the session's CSRF token
	}
	return code
}

func (f *fixture) loggedIn(t *testing.T) *browser {
	t.Helper()
	b := f.browser(t)
	if code := b.login(t, "admin", testPassword); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	return b
}

// seed makes a device and a monitor through the API's save path.
func (f *fixture) seed(t *testing.T, device, monitor string, password string) (*store.Device, *store.Monitor) {
	t.Helper()
	ctx := context.Background()
	d, err := f.saveDevice(ctx, 0, device, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	in := catalog.Monitor{Device: d.ID, Settings: config.Monitor{Name: monitor, Type: "imap", Port: 1, User: "u", AllowPlaintext: true}}
	if password != "" {
		in.Password = &password
	}
	m, err := f.saveMonitor(ctx, 0, in)
	if err != nil {
		t.Fatal(err)
	}
	return d, m
}

// concrete fills a route's path parameters.
func concrete(p string, id int64) string {
	p = strings.ReplaceAll(p, "{id}", fmt.Sprint(id))
	p = strings.ReplaceAll(p, "{file}", "app.js")
	return strings.ReplaceAll(p, "{$}", "")
}

// TestEveryRouteNeedsASession: every route of the UI but the public ones
// and every API route but /healthz refuse a request without a session or
// token (a page sends to the login; nothing is shown or changed).
func TestEveryRouteNeedsASession(t *testing.T) {
	f := newFixture(t, false)
	d, m := f.seed(t, "dev", "hidden-monitor-name", "")
	b := f.browser(t)
	for _, rt := range f.web.Routes() {
		if rt.Public {
			continue
		}
		id := m.ID
		if strings.HasPrefix(rt.Path, "/devices/") {
			id = d.ID
		}
		p := concrete(rt.Path, id)
		var code int
		var body string
		if rt.Method == "GET" {
			code, body = b.get(t, p)
		} else {
			code, body, _ = b.post(t, p, url.Values{"name": {"x"}}, nil)
		}
		switch {
		case rt.Method == "GET" && rt.Path != "/events":
			if code != http.StatusSeeOther {
				t.Errorf("%s %s without a session: %d, want a redirect to the login", rt.Method, p, code)
			}
		case code != http.StatusUnauthorized:
			t.Errorf("%s %s without a session: %d, want 401", rt.Method, p, code)
		}
		if strings.Contains(body, "hidden-monitor-name") {
			t.Errorf("%s %s without a session shows the page: %.200s", rt.Method, p, body)
		}
	}
	// Nothing changed.
	if got, err := f.st.Monitor(context.Background(), m.ID); err != nil || got.Name != "hidden-monitor-name" {
		t.Errorf("monitor after the refused requests: %+v %v", got, err)
	}
	// And the API's routes refuse a browser's cookie: they take tokens.
	lb := f.loggedIn(t)
	for _, rt := range f.api.Routes() {
		if rt.Public {
			continue
		}
		req, _ := http.NewRequest(rt.Method, f.srv.URL+concrete(rt.Path, m.ID), strings.NewReader("{}"))
		resp, err := lb.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("API %s %s with a session cookie and no token: %d, want 401", rt.Method, rt.Path, resp.StatusCode)
		}
	}
}

func TestPublicRoutesAreFew(t *testing.T) {
	f := newFixture(t, false)
	var public []string
	for _, rt := range f.web.Routes() {
		if rt.Public {
			public = append(public, rt.Method+" "+rt.Path)
		}
	}
	if got := strings.Join(public, ", "); got != "GET /static/{file}, GET /login, POST /login, POST /login/code, GET /login/oidc, GET /login/oidc/callback, "+
		"GET /status/{page}, GET /badge/{page}/status.svg, GET /badge/{page}/{device}/{monitor}/{badge}, GET /ack/{token}, POST /ack/{token}" {
		t.Errorf("public routes: %s", got)
	}
}

// TestCrossSitePostRefused: a state-changing request needs the session's
// CSRF token and must come from this site.
func TestCrossSitePostRefused(t *testing.T) {
	f := newFixture(t, false)
	b := f.loggedIn(t)
	add := func(name string, form url.Values, hdr map[string]string) int {
		form.Set("name", name)
		form.Set("address", "10.0.0.1")
		code, _, _ := b.post(t, "/devices", form, hdr)
		return code
	}
	if code := add("no-token", url.Values{"csrf": {""}}, nil); code != http.StatusForbidden {
		t.Errorf("without the CSRF token: %d, want 403", code)
	}
	if code := add("wrong-token", url.Values{"csrf": {strings.Repeat("0", 64)}}, nil); code != http.StatusForbidden {
		t.Errorf("with a wrong CSRF token: %d, want 403", code)
	}
	if code := add("other-origin", url.Values{}, map[string]string{"Origin": "https://evil.example"}); code != http.StatusForbidden {
		t.Errorf("from another origin: %d, want 403", code)
	}
	if code := add("cross-site", url.Values{}, map[string]string{"Sec-Fetch-Site": "cross-site"}); code != http.StatusForbidden {
		t.Errorf("Sec-Fetch-Site cross-site: %d, want 403", code)
	}
	if _, total, _ := f.st.Devices(context.Background(), store.Page{}); total != 0 {
		t.Errorf("a refused request made %d devices", total)
	}
	if code := add("fine", url.Values{}, map[string]string{"Origin": f.srv.URL, "Sec-Fetch-Site": "same-origin"}); code != http.StatusSeeOther {
		t.Errorf("same-origin with the token: %d, want 303", code)
	}
	// The login form has its own token (no session yet).
	lb := f.browser(t)
	code, _, _ := lb.post(t, "/login", url.Values{"name": {"admin"}, "password": {testPassword}}, nil)
	if code != http.StatusForbidden {
		t.Errorf("login without the form's token: %d, want 403", code)
	}
}

func TestLoginLogoutAndHeaders(t *testing.T) {
	f := newFixture(t, false)
	b := f.browser(t)
	if code := b.login(t, "admin", "wrong password"); code != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", code)
	}
	if code := b.login(t, "nobody", testPassword); code != http.StatusUnauthorized {
		t.Errorf("unknown user: %d", code)
	}
	b.get(t, "/login")
	code, _, resp := b.post(t, "/login", url.Values{"name": {"admin"}, "password": {testPassword}, "next": {"//evil.example/x"}}, nil)
	if code != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("login with an off-site next: %d → %q", code, resp.Header.Get("Location"))
	}
	var sc *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			sc = c
		}
	}
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || len(sc.Value) != 64 {
		t.Fatalf("session cookie %+v", sc)
	}
	if _, err := f.st.SessionByHash(context.Background(), sc.Value); err == nil {
		t.Error("the session id is stored in the clear")
	}
	code, body := b.get(t, "/")
	if code != 200 || !strings.Contains(body, "Status") {
		t.Fatalf("board after login: %d", code)
	}
	resp2, _ := b.c.Get(f.srv.URL + "/")
	resp2.Body.Close()
	h := resp2.Header
	for k, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
		if h.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, h.Get(k), want)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if strings.Contains(body, "<script>") || regexp.MustCompile(`<script(?: [^>]*)?>[^<]`).MatchString(body) || strings.Contains(body, " style=") || strings.Contains(body, " onclick=") {
		t.Error("the page has inline script or style")
	}
	code, _, _ = b.post(t, "/logout", url.Values{}, nil)
	if code != http.StatusSeeOther {
		t.Errorf("logout: %d", code)
	}
	// The old cookie is dead even if a browser kept it.
	b.c.Jar.SetCookies(mustURL(f.srv.URL), []*http.Cookie{{Name: sessionCookie, Value: sc.Value}})
	if code, _ := b.get(t, "/"); code != http.StatusSeeOther {
		t.Errorf("after logout the old cookie still opens the board: %d", code)
	}
}

func mustURL(s string) *url.URL { u, _ := url.Parse(s); return u }

func TestSessionExpires(t *testing.T) {
	f := newFixture(t, false)
	f.web.IdleTimeout, f.web.MaxAge = time.Hour, 3*time.Hour
	b := f.loggedIn(t)
	for i := 0; i < 3; i++ { // active: the idle timer restarts
		f.clock.Add(50 * time.Minute)
		if code, _ := b.get(t, "/"); code != 200 {
			t.Fatalf("active session refused after %d×50 min: %d", i+1, code)
		}
	}
	f.clock.Add(35 * time.Minute) // 3 h 5 min: past the absolute limit, not idle
	if code, _ := b.get(t, "/"); code != http.StatusSeeOther {
		t.Errorf("session past its absolute limit: %d", code)
	}
	b = f.loggedIn(t)
	f.clock.Add(61 * time.Minute)
	if code, _ := b.get(t, "/"); code != http.StatusSeeOther {
		t.Errorf("idle session: %d", code)
	}
}

func TestLoginRateLimited(t *testing.T) {
	f := newFixture(t, false)
	b := f.browser(t)
	for i := 0; i < 5; i++ {
		if code := b.login(t, "admin", "guess"); code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, code)
		}
	}
	if code := b.login(t, "admin", testPassword); code != http.StatusTooManyRequests {
		t.Errorf("the right password after 5 failures: %d, want 429", code)
	}
	f.clock.Add(16 * time.Minute)
	if code := b.login(t, "admin", testPassword); code != http.StatusSeeOther {
		t.Errorf("after the window: %d", code)
	}
}

func TestChangePassword(t *testing.T) {
	f := newFixture(t, false)
	b, other := f.loggedIn(t), f.loggedIn(t)
	b.get(t, "/password")
	code, body, _ := b.post(t, "/password", url.Values{"current": {"nope"}, "new": {"new password 1"}, "again": {"new password 1"}}, nil)
	if code != http.StatusBadRequest || !strings.Contains(body, "current password is wrong") {
		t.Errorf("wrong current password: %d", code)
	}
	code, body, _ = b.post(t, "/password", url.Values{"current": {testPassword}, "new": {"short"}, "again": {"short"}}, nil)
	if code != http.StatusBadRequest || !strings.Contains(body, "at least 8") {
		t.Errorf("short password: %d", code)
	}
	code, _, _ = b.post(t, "/password", url.Values{"current": {testPassword}, "new": {"new password 1"}, "again": {"new password 1"}}, nil)
	if code != 200 {
		t.Errorf("change: %d", code)
	}
	if code, _ := b.get(t, "/"); code != 200 {
		t.Errorf("this session ended: %d", code)
	}
	if code, _ := other.get(t, "/"); code != http.StatusSeeOther {
		t.Errorf("the other session survived the change: %d", code)
	}
	if code := f.browser(t).login(t, "admin", "new password 1"); code != http.StatusSeeOther {
		t.Errorf("login with the new password: %d", code)
	}
}

// TestServerTextAndNamesEscaped: a hostile monitor name and a server
// banner carrying HTML are shown as text on every page.
func TestServerTextAndNamesEscaped(t *testing.T) {
	f := newFixture(t, false)
	const evil = `<script>alert(1)</script>`
	d, m := f.seed(t, `<img src=x onerror=alert(2)>`, evil, "")
	ctx := context.Background()
	now := time.Now()
	res := &probe.Result{Type: "imap", Status: probe.StatusDown, Started: now, RTT: time.Millisecond,
		Error:      &probe.Error{Code: probe.ServiceError, Message: "The remote device answered with an error", Reply: `* BYE <b onmouseover=alert(3)>bye</b><script>alert(4)</script>`},
		Transcript: []string{`S: * OK <script>alert(5)</script> ready`, `C: a1 LOGIN u [redacted]`}}
	err := f.st.RecordTest(ctx, store.Test{Result: store.Result{MonitorID: m.ID, Time: now, Status: probe.StatusDown, RTT: time.Millisecond, Code: probe.ServiceError, Detail: res,
		Node: "n1<script>alert(7)</script>", Location: "fra"},
		Status: store.Status{MonitorID: m.ID, Status: state.Status{State: state.Down, Since: now}, LastResult: res, LastTest: now},
		Change: &store.StateChange{MonitorID: m.ID, Time: now, From: state.Up, To: state.Down, Cause: `server said <i>no</i>`}})
	if err != nil {
		t.Fatal(err)
	}
	b := f.loggedIn(t)
	for _, p := range []string{"/", "/devices", fmt.Sprintf("/devices/%d", d.ID), fmt.Sprintf("/monitors/%d", m.ID), fmt.Sprintf("/monitors/%d/edit", m.ID), "/reports", fmt.Sprintf("/reports?monitor=%d", m.ID)} {
		code, body := b.get(t, p)
		if code != 200 {
			t.Errorf("%s: %d", p, code)
			continue
		}
		for _, bad := range []string{"<script>alert", "<img src=x", "<b onmouseover", "<i>no</i>"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s shows %q unescaped", p, bad)
			}
		}
		if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") && p != "/devices" {
			t.Errorf("%s does not show the monitor's name as text", p)
		}
	}
	_, body := b.get(t, fmt.Sprintf("/monitors/%d", m.ID))
	for _, want := range []string{"&lt;script&gt;alert(5)&lt;/script&gt;", "&lt;b onmouseover=alert(3)&gt;", "service_error",
		"n1&lt;script&gt;alert(7)&lt;/script&gt; (fra)"} {
		if !strings.Contains(body, want) {
			t.Errorf("the monitor page lacks %q (the transcript, the reply and the result's node as text)", want)
		}
	}
}

// TestNoResponseContainsASecret: a stored password is never sent back,
// clear or sealed, on any page.
func TestNoResponseContainsASecret(t *testing.T) {
	f := newFixture(t, false)
	const pw = "s3cret-Pa55word-for-the-test"
	d, m := f.seed(t, "dev", "mon", pw)
	stored, _ := f.st.Monitor(context.Background(), m.ID)
	sealed := stored.Secrets["password"]
	if sealed == "" {
		t.Fatal("no sealed password stored")
	}
	relay := "relay-Pa55word-for-the-test"
	if _, err := f.saveAlert(context.Background(), 0, config.Alert{Name: "mail", Email: &config.Email{To: []string{"a@example.com"},
		Relay: config.Leg{Host: "relay.example.com", User: "u", TLS: "starttls"}}}, &relay); err != nil {
		t.Fatal(err)
	}
	credPW := "cred-Pa55word-for-the-test"
	if _, err := f.saveCredential(context.Background(), 0, catalog.Credential{Name: "c", User: "root",
		KnownHost: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl", Password: &credPW}); err != nil {
		t.Fatal(err)
	}
	b := f.loggedIn(t)
	var paths []string
	for _, rt := range f.web.Routes() {
		if rt.Method == "GET" && rt.Path != "/events" {
			id := m.ID
			if strings.HasPrefix(rt.Path, "/devices/") {
				id = d.ID
			}
			paths = append(paths, concrete(rt.Path, id))
		}
	}
	for _, p := range paths {
		_, body := b.get(t, p)
		for _, s := range []string{pw, sealed, relay, credPW} {
			if strings.Contains(body, s) {
				t.Errorf("%s contains a secret", p)
			}
		}
	}
	_, body := b.get(t, fmt.Sprintf("/monitors/%d/edit", m.ID))
	if !strings.Contains(body, `id="password-set">set<`) {
		t.Error("the edit form does not say the password is set")
	}
	// Saving the form with the password left empty keeps it.
	code, body, _ := b.post(t, fmt.Sprintf("/monitors/%d/edit", m.ID), url.Values{"name": {"mon2"}, "enabled": {"on"}, "port": {"1"}, "user": {"u"},
		"allow_plaintext_auth": {"on"}, "password": {""}}, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", code, body)
	}
	after, _ := f.st.Monitor(context.Background(), m.ID)
	if after.Name != "mon2" || after.Secrets["password"] != sealed {
		t.Errorf("saving with an empty password changed it: %+v", after.Secrets)
	}
	// "remove" removes it.
	b.get(t, fmt.Sprintf("/monitors/%d/edit", m.ID))
	b.post(t, fmt.Sprintf("/monitors/%d/edit", m.ID), url.Values{"name": {"mon2"}, "enabled": {"on"}, "port": {"1"}, "password.clear": {"on"}}, nil)
	if after, _ := f.st.Monitor(context.Background(), m.ID); after.Secrets["password"] != "" {
		t.Error("the password was not removed")
	}
}
