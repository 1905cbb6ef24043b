// Package web is mailmon's web UI (docs/web-ui.md): server-rendered pages
// (html/template, so every server text and every name is escaped in its
// context), one small script and one style sheet, all embedded. It saves
// through the catalog, as the JSON API does, so a form and the API validate
// the same way. Every page needs a session; every state-changing request a
// CSRF token and a same-origin request.
package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strconv"
	"sync"
	"time"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/wire"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Server serves the web UI.
type Server struct {
	Store  store.Store
	Engine *engine.Engine // nil: no live updates, no "Test now"
	// Catalog saves devices, monitors, alerts and credentials.
	Catalog *catalog.Catalog
	Log     *slog.Logger
	// Secure is set when the UI is served over TLS: cookies get Secure.
	Secure bool
	// Proxies are the reverse proxies whose forwarding headers say the
	// client's address, scheme and host (proxy.go).
	Proxies Proxies
	// Now is the clock (default time.Now).
	Now func() time.Time
	// BcryptCost is the cost of new password hashes (default
	// bcrypt.DefaultCost; tests lower it).
	BcryptCost int
	// IdleTimeout and MaxAge end sessions (defaults 12 h and 7 days).
	IdleTimeout, MaxAge time.Duration
	// Heartbeat is how often an idle event stream gets a comment and its
	// session is checked again (default 15 s).
	Heartbeat time.Duration
	// TwoFactorRoles are the roles whose local logins must use a second
	// factor (serve --require-2fa): such a user enrols at their next
	// login and can do nothing else first.
	TwoFactorRoles []catalog.Role
	// SSO is single sign-on by OpenID Connect (nil: none); NoLocalLogins
	// turns the local logins (name and password) off.
	SSO           *SSO
	NoLocalLogins bool
	// UserHeader is the header in which an authenticating proxy among
	// Proxies names the user ("": none); UserHeaderRole the role of a
	// user it names whom mailmon does not know ("": refused). proxyauth.go.
	UserHeader     string
	UserHeaderRole catalog.Role

	once       sync.Once
	pages      map[string]*template.Template
	limiter    *limiter
	noSuchUser noSuchUser
	// The status pages' views, and how often a client may ask for them
	// (statuspage.go).
	statusCache   statusCache
	statusClients *clientRates

	mu         sync.Mutex
	pending    map[string]pendingLogin               // logins waiting for a second factor, by cookie hash
	ssoPending map[string]ssoPending                 // single sign-on logins under way, by cookie hash
	streams    map[string]map[int]context.CancelFunc // live streams by session hash
	nstreams   int                                   // live streams of all sessions
	nextID     int
}

// Route is one route of the UI. The router is built from Routes, and the
// security tests enumerate it.
type Route struct {
	Method, Path string
	Public       bool // needs no session (login, static files)
	// Role is the role a login needs for it (catalog.Role).
	Role    catalog.Role
	handler func(w http.ResponseWriter, r *http.Request, c *call) error
}

// call is what a handler knows of the request's session.
type call struct {
	user    *store.User
	session *store.Session
	notice  string // a line shown at the top of the page (dropped.go)
	// origin is who asks, for the catalog: the session's user.
	origin catalog.Origin
}

// role is the session's user's role ("" without one).
func (c *call) role() catalog.Role {
	if c.user == nil {
		return ""
	}
	return catalog.Role(c.user.Role)
}

// Routes lists every route of the UI.
func (s *Server) Routes() []Route {
	return []Route{
		{Method: "GET", Path: "/static/{file}", Public: true, handler: s.static},
		{Method: "GET", Path: "/login", Public: true, handler: s.loginPage},
		{Method: "POST", Path: "/login", Public: true, handler: s.login},
		{Method: "POST", Path: "/login/code", Public: true, handler: s.loginCode},
		{Method: "GET", Path: "/login/oidc", Public: true, handler: s.ssoStart},
		{Method: "GET", Path: "/login/oidc/callback", Public: true, handler: s.ssoCallback},
		// Public: a public status page needs no login; a private one asks
		// for the session itself, and answers 404 without (statuspage.go).
		{Method: "GET", Path: "/status/{page}", Public: true, handler: s.statusPage},
		{Method: "GET", Path: "/badge/{page}/status.svg", Public: true, handler: s.pageBadge},
		{Method: "GET", Path: "/badge/{page}/{device}/{monitor}/{badge}", Public: true, handler: s.monitorBadge},
		{Method: "GET", Path: "/status-pages", Role: catalog.Viewer, handler: s.statusPagesList},
		{Method: "GET", Path: "/2fa", Role: catalog.Viewer, handler: s.twoFactorPage},
		{Method: "POST", Path: "/2fa", Role: catalog.Viewer, handler: s.enrol},
		{Method: "POST", Path: "/logout", Role: catalog.Viewer, handler: s.logout},
		{Method: "GET", Path: "/password", Role: catalog.Viewer, handler: s.passwordPage},
		{Method: "POST", Path: "/password", Role: catalog.Viewer, handler: s.changePassword},
		{Method: "GET", Path: "/{$}", Role: catalog.Viewer, handler: s.board},
		{Method: "GET", Path: "/events", Role: catalog.Viewer, handler: s.events},
		{Method: "GET", Path: "/devices", Role: catalog.Viewer, handler: s.devices},
		{Method: "POST", Path: "/devices", Role: catalog.Editor, handler: s.createDevice},
		{Method: "GET", Path: "/devices/{id}", Role: catalog.Viewer, handler: s.device},
		{Method: "POST", Path: "/devices/{id}", Role: catalog.Editor, handler: s.updateDevice},
		{Method: "POST", Path: "/devices/{id}/delete", Role: catalog.Editor, handler: s.deleteDevice},
		{Method: "POST", Path: "/devices/{id}/maintenance", Role: catalog.Editor, handler: s.beginMaintenance(true)},
		{Method: "POST", Path: "/devices/{id}/maintenance/end", Role: catalog.Editor, handler: s.endMaintenance(true)},
		{Method: "GET", Path: "/devices/{id}/monitors/new", Role: catalog.Editor, handler: s.newMonitor},
		{Method: "POST", Path: "/devices/{id}/monitors/new", Role: catalog.Editor, handler: s.createMonitor},
		{Method: "GET", Path: "/monitors/{id}", Role: catalog.Viewer, handler: s.monitor},
		{Method: "GET", Path: "/monitors/{id}/edit", Role: catalog.Editor, handler: s.editMonitor},
		{Method: "POST", Path: "/monitors/{id}/edit", Role: catalog.Editor, handler: s.updateMonitor},
		{Method: "POST", Path: "/monitors/{id}/delete", Role: catalog.Editor, handler: s.deleteMonitor},
		{Method: "POST", Path: "/monitors/{id}/test", Role: catalog.Editor, handler: s.testMonitor},
		{Method: "POST", Path: "/monitors/{id}/ack", Role: catalog.Editor, handler: s.ackMonitor},
		{Method: "POST", Path: "/monitors/{id}/maintenance", Role: catalog.Editor, handler: s.beginMaintenance(false)},
		{Method: "POST", Path: "/monitors/{id}/maintenance/end", Role: catalog.Editor, handler: s.endMaintenance(false)},
		{Method: "GET", Path: "/reports", Role: catalog.Viewer, handler: s.reports},
		{Method: "GET", Path: "/reports.csv", Role: catalog.Viewer, handler: s.reportCSV},
		{Method: "GET", Path: "/alerts", Role: catalog.Viewer, handler: s.alerts},
		{Method: "POST", Path: "/alerts", Role: catalog.Editor, handler: s.createAlert},
		{Method: "GET", Path: "/alerts/{id}/edit", Role: catalog.Editor, handler: s.editAlert},
		{Method: "POST", Path: "/alerts/{id}/edit", Role: catalog.Editor, handler: s.updateAlert},
		{Method: "POST", Path: "/alerts/{id}/delete", Role: catalog.Editor, handler: s.deleteAlert},
		{Method: "POST", Path: "/alerts/{id}/test", Role: catalog.Editor, handler: s.testAlert},
		{Method: "GET", Path: "/credentials", Role: catalog.Admin, handler: s.credentials},
		{Method: "POST", Path: "/credentials", Role: catalog.Admin, handler: s.createCredential},
		{Method: "POST", Path: "/credentials/{id}/delete", Role: catalog.Admin, handler: s.deleteCredential},
		{Method: "GET", Path: "/users", Role: catalog.Admin, handler: s.users},
		{Method: "POST", Path: "/users", Role: catalog.Admin, handler: s.createUser},
		{Method: "POST", Path: "/users/{id}/delete", Role: catalog.Admin, handler: s.deleteUser},
		{Method: "POST", Path: "/users/{id}/role", Role: catalog.Admin, handler: s.setRole},
		{Method: "GET", Path: "/tokens", Role: catalog.Admin, handler: s.tokens},
		{Method: "POST", Path: "/tokens", Role: catalog.Admin, handler: s.createToken},
		{Method: "POST", Path: "/tokens/{id}/delete", Role: catalog.Admin, handler: s.deleteToken},
		{Method: "GET", Path: "/audit", Role: catalog.Admin, handler: s.audit},
	}
}

// Register adds the UI's routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	s.init()
	for _, rt := range s.Routes() {
		mux.Handle(rt.Method+" "+rt.Path, s.wrap(rt))
	}
}

// Handler is the UI alone, with its security headers (tests; serve
// registers the routes beside the API's).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.Register(mux)
	return Headers(mux, s.Secure)
}

func (s *Server) init() {
	s.once.Do(func() {
		if s.Now == nil {
			s.Now = time.Now
		}
		if s.Log == nil {
			s.Log = slog.New(slog.DiscardHandler)
		}
		if s.IdleTimeout <= 0 {
			s.IdleTimeout = 12 * time.Hour
		}
		if s.MaxAge <= 0 {
			s.MaxAge = 7 * 24 * time.Hour
		}
		if s.Heartbeat <= 0 {
			s.Heartbeat = 15 * time.Second
		}
		s.limiter = newLimiter()
		s.statusClients = newClientRates(statusRate, statusBurst)
		s.streams = map[string]map[int]context.CancelFunc{}
		s.pending = map[string]pendingLogin{}
		s.ssoPending = map[string]ssoPending{}
		s.pages = parsePages()
	})
}

// Headers sets the security headers of every response: a CSP without
// inline script, no framing, no sniffing; HSTS under TLS. The values are
// made once and shared by every response (a header's slice is never
// appended to in place: its capacity is its length), so /probe's hundreds
// of answers a second do not canonicalize and allocate them each time.
func Headers(h http.Handler, tls bool) http.Handler {
	set := http.Header{}
	set.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	set.Set("X-Frame-Options", "DENY")
	set.Set("X-Content-Type-Options", "nosniff")
	set.Set("Referrer-Policy", "same-origin")
	if tls {
		set.Set("Strict-Transport-Security", "max-age=31536000")
	}
	type kv struct {
		k string
		v []string
	}
	var list []kv
	for k, v := range set {
		list = append(list, kv{k, v[:len(v):len(v)]})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		for _, x := range list {
			hd[x.k] = x.v
		}
		h.ServeHTTP(w, r)
	})
}

// httpError is an error shown to the user with a status.
type httpError struct {
	status int
	msg    string
}

func (e httpError) Error() string { return e.msg }

func (s *Server) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		c := &call{}
		if rt.Method != "GET" && rt.Method != "HEAD" {
			if err := sameOrigin(r, s.Proxies.Client(r).Host); err != nil {
				s.fail(w, r, c, httpError{http.StatusForbidden, err.Error()})
				return
			}
		}
		if !rt.Public {
			u, se, err := s.authenticate(r)
			if errors.Is(err, store.ErrUnavailable) {
				s.fail(w, r, c, err)
				return
			}
			if name := s.proxyUser(r); name != "" && (err != nil || u.Name != name) {
				if u, se, err = s.proxySession(w, r, name); err != nil {
					s.fail(w, r, c, err)
					return
				}
			}
			if err != nil {
				if rt.Method == "GET" && rt.Path != "/events" {
					http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
					return
				}
				s.fail(w, r, c, httpError{http.StatusUnauthorized, "please log in"})
				return
			}
			c.user, c.session = u, se
			c.origin = catalog.Network.As(catalog.User(u.Name, c.role(), s.Proxies.Client(r).Addr))
			if rt.Method != "GET" && rt.Method != "HEAD" && !s.csrfOK(r, se) {
				s.fail(w, r, c, httpError{http.StatusForbidden, "the form is out of date (CSRF token missing or wrong): reload the page and try again"})
				return
			}
			if s.mustEnrol(u) && rt.Path != "/2fa" && rt.Path != "/logout" && rt.Path != "/events" {
				if rt.Method == "GET" {
					http.Redirect(w, r, "/2fa", http.StatusSeeOther)
					return
				}
				s.fail(w, r, c, httpError{http.StatusForbidden, "set up your two-factor login first"})
				return
			}
			if !c.role().Allows(rt.Role) {
				s.fail(w, r, c, httpError{http.StatusForbidden, "this needs the " + string(rt.Role) + " role; you are " + string(c.role()) + ": ask an admin"})
				return
			}
		}
		if rt.Method == "GET" && rt.Path != "/static/{file}" {
			w.Header().Set("Cache-Control", "no-store")
		}
		if err := rt.handler(w, r, c); err != nil {
			s.fail(w, r, c, err)
		}
	})
}

// fail shows an error page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, c *call, err error) {
	var he httpError
	var fb catalog.Forbidden
	switch {
	case errors.As(err, &he):
	case errors.As(err, &fb):
		he = httpError{http.StatusForbidden, fb.Msg}
	case errors.Is(err, store.ErrNotFound):
		he = httpError{http.StatusNotFound, "not found"}
	case s.unavailable(err):
		he = httpError{http.StatusServiceUnavailable, unavailableText}
		w.Header().Set("Retry-After", "5")
	default:
		s.Log.Error("web", "path", r.URL.Path, "client", s.Proxies.Client(r).Addr, "err", err)
		he = httpError{http.StatusInternalServerError, "internal error"}
	}
	s.render(w, c, he.status, "error", "Error", he.msg)
}

// page is what every template gets.
type page struct {
	Title string
	User  *store.User
	// Role is the user's role: the pages show only what it may do (Can).
	Role catalog.Role
	CSRF string
	Nav  string
	Data any
	// Notice tells what the last save did besides saving (dropped.go).
	Notice string
	// Banner says what is wrong with this node now (health.go).
	Banner string
}

// Can says whether the page's user may do what needs role need.
func (p page) Can(need string) bool { return p.Role.Allows(catalog.Role(need)) }

func (s *Server) render(w http.ResponseWriter, c *call, status int, name, title string, data any) {
	t := s.pages[name]
	// A name stored before names refused hidden characters may hold one:
	// a tab's title cannot isolate it, so it shows as U+FFFD there.
	p := page{Title: wire.Sanitize(title), Data: data, Nav: name}
	if c != nil && c.user != nil {
		p.User, p.CSRF, p.Role = c.user, c.session.CSRF, c.role()
	}
	if c != nil {
		p.Notice = c.notice
	}
	p.Banner = s.banner()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := t.ExecuteTemplate(w, name+".html", p); err != nil {
		s.Log.Error("web: template", "page", name, "err", err)
	}
}

func (s *Server) static(w http.ResponseWriter, r *http.Request, _ *call) error {
	sub, _ := fs.Sub(staticFS, "static")
	name := r.PathValue("file")
	b, err := fs.ReadFile(sub, name)
	if err != nil {
		return httpError{http.StatusNotFound, "not found"}
	}
	w.Header().Set("Content-Type", mime.TypeByExtension(path.Ext(name)))
	w.Header().Set("Cache-Control", "max-age=3600")
	w.Write(b)
	return nil
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, httpError{http.StatusNotFound, "not found"}
	}
	return id, nil
}
