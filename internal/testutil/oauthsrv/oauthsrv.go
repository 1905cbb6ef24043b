// Package oauthsrv is a small OAuth 2.0 authorization server for tests,
// on loopback over HTTPS with a test CA. It follows RFC 6749 for the
// token endpoint (client_secret_post and client_secret_basic, the client
// credentials and refresh token grants, §5.2 errors), RFC 7523 for the
// JWT bearer grant of Google's service accounts (jwt.go), RFC 8628 for the
// device authorization grant and RFC 7662 for token introspection, which
// is what Dovecot's oauth2 passdb asks. Refresh tokens rotate when Rotate
// is set, the old one then refused as invalid_grant; tokens can be
// expired and revoked at will.
package oauthsrv

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/testutil/certs"
)

// Client is a registered application. Mailbox is the mailbox its client
// credentials tokens may open (Entra's application access policy, in
// small); a device login chooses its user instead.
type Client struct {
	ID, Secret string
	Mailbox    string
}

// Server is the authorization server.
type Server struct {
	URL string // https://127.0.0.1:port
	CA  *certs.CA

	srv *httptest.Server

	mu       sync.Mutex
	lifetime time.Duration
	rotate   bool
	clients  map[string]Client
	access   map[string]*grant // by access token
	refresh  map[string]*grant // by refresh token
	devices  map[string]*device
	requests map[string]int      // token requests by grant type
	reused   int                 // refresh requests with a refresh token rotated out
	accounts map[string]*account // service accounts by e-mail (jwt.go)
	fail     *failure
}

type grant struct {
	client, user, scope string
	expiry              time.Time
	revoked             bool
	rotatedOut          bool // a refresh token replaced by rotation
}

type device struct {
	client, userCode, scope string
	user                    string // set when approved
	denied                  bool
	expiry                  time.Time
}

type failure struct {
	status            int
	code, description string
}

// New starts a server trusted by CA, tokens living lifetime.
func New(t testing.TB, ca *certs.CA, lifetime time.Duration) *Server {
	t.Helper()
	s := &Server{CA: ca, lifetime: lifetime, clients: map[string]Client{}, access: map[string]*grant{},
		refresh: map[string]*grant{}, devices: map[string]*device{}, requests: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("POST /devicecode", s.deviceCode)
	mux.HandleFunc("POST /introspect", s.introspect)
	s.srv = ca.StartHTTPS(t, mux)
	s.URL = s.srv.URL
	return s
}

// TokenURL, DeviceURL and IntrospectURL are the endpoints.
func (s *Server) TokenURL() string      { return s.URL + "/token" }
func (s *Server) DeviceURL() string     { return s.URL + "/devicecode" }
func (s *Server) IntrospectURL() string { return s.URL + "/introspect" }

// AddClient registers an application.
func (s *Server) AddClient(c Client) {
	s.mu.Lock()
	s.clients[c.ID] = c
	s.mu.Unlock()
}

// SetRotate makes each refresh return a new refresh token, the old one
// then refused.
func (s *Server) SetRotate(on bool) {
	s.mu.Lock()
	s.rotate = on
	s.mu.Unlock()
}

// SetLifetime sets the lifetime of tokens issued from now on.
func (s *Server) SetLifetime(d time.Duration) {
	s.mu.Lock()
	s.lifetime = d
	s.mu.Unlock()
}

// Fail makes every token request answer with this §5.2 error (status 0:
// back to normal).
func (s *Server) Fail(status int, code, description string) {
	s.mu.Lock()
	s.fail = nil
	if status != 0 {
		s.fail = &failure{status, code, description}
	}
	s.mu.Unlock()
}

// IssueRefresh makes a refresh token for user, as a past login would have.
func (s *Server) IssueRefresh(client, user, scope string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := "rt-" + random()
	s.refresh[rt] = &grant{client: client, user: user, scope: scope}
	return rt
}

// Requests is how many token requests of grant type grant came (all
// types for "").
func (s *Server) Requests(grantType string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if grantType != "" {
		return s.requests[grantType]
	}
	n := 0
	for _, v := range s.requests {
		n += v
	}
	return n
}

// Reused is how many refresh requests came with a refresh token that
// rotation had replaced (each refused as invalid_grant): a client that
// lost track of the rotation.
func (s *Server) Reused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reused
}

// ExpireAll makes every access token issued so far expired.
func (s *Server) ExpireAll() {
	s.mu.Lock()
	for _, g := range s.access {
		g.expiry = time.Now().Add(-time.Second)
	}
	s.mu.Unlock()
}

// Revoke revokes an access or refresh token.
func (s *Server) Revoke(token string) {
	s.mu.Lock()
	if g := s.access[token]; g != nil {
		g.revoked = true
	}
	if g := s.refresh[token]; g != nil {
		g.revoked = true
	}
	s.mu.Unlock()
}

// Approve is the user entering userCode at the verification URI and
// consenting as user; deny refuses instead.
func (s *Server) Approve(userCode, user string, deny bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.devices {
		if d.userCode == userCode {
			d.user, d.denied = user, deny
			return true
		}
	}
	return false
}

// Issued lists the access tokens issued, for tests that look for them in
// output.
func (s *Server) Issued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for a := range s.access {
		out = append(out, a)
	}
	return out
}

func random() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// oauthError is RFC 6749 §5.2: 400, or 401 with WWW-Authenticate for a
// client that failed to authenticate with the Authorization header.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="oauthsrv"`)
	}
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// authClient authenticates the client by client_secret_basic or
// client_secret_post (§2.3.1), never both; a public client (no secret
// registered) by its id alone.
func (s *Server) authClient(r *http.Request) (Client, int, string) {
	id, secret, basic := r.BasicAuth()
	if basic {
		if r.PostForm.Has("client_secret") {
			return Client{}, 400, "more than one client authentication method"
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	c, ok := s.clients[id]
	if !ok || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		status := 400
		if basic {
			status = 401
		}
		return Client{}, status, "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID."
	}
	return c, 0, ""
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	gt := r.PostForm.Get("grant_type")
	s.requests[gt]++
	if f := s.fail; f != nil {
		oauthError(w, f.status, f.code, f.description)
		return
	}
	if gt == JWTBearer { // the assertion authenticates (jwt.go)
		s.jwtBearer(w, r)
		return
	}
	c, status, why := s.authClient(r)
	if status != 0 {
		oauthError(w, status, "invalid_client", why)
		return
	}
	switch gt {
	case "client_credentials":
		if c.Secret == "" {
			oauthError(w, 400, "unauthorized_client", "a public client has no client credentials")
			return
		}
		s.issue(w, &grant{client: c.ID, user: c.Mailbox, scope: r.PostForm.Get("scope")}, false)
	case "refresh_token":
		g := s.refresh[r.PostForm.Get("refresh_token")]
		if g != nil && g.rotatedOut {
			s.reused++
		}
		if g == nil || g.revoked || g.client != c.ID {
			oauthError(w, 400, "invalid_grant", "AADSTS70008: The provided authorization code or refresh token has expired due to inactivity.")
			return
		}
		if sc := r.PostForm.Get("scope"); sc != "" && g.scope != "" && !subset(sc, g.scope) {
			oauthError(w, 400, "invalid_scope", "the scope asked for is wider than the one granted")
			return
		}
		if s.rotate {
			g.revoked, g.rotatedOut = true, true // kept, to count its reuse
		}
		s.issue(w, &grant{client: c.ID, user: g.user, scope: g.scope}, s.rotate)
	case "urn:ietf:params:oauth:grant-type:device_code":
		d := s.devices[r.PostForm.Get("device_code")]
		switch {
		case d == nil || d.client != c.ID:
			oauthError(w, 400, "invalid_grant", "no such device code")
		case time.Now().After(d.expiry):
			oauthError(w, 400, "expired_token", "the device code expired")
		case d.denied:
			oauthError(w, 400, "access_denied", "the user declined")
		case d.user == "":
			oauthError(w, 400, "authorization_pending", "waiting for the user")
		default:
			delete(s.devices, r.PostForm.Get("device_code"))
			s.issue(w, &grant{client: c.ID, user: d.user, scope: d.scope}, true)
		}
	default:
		oauthError(w, 400, "unsupported_grant_type", fmt.Sprintf("grant_type %q", gt))
	}
}

func subset(asked, granted string) bool {
	for _, a := range strings.Fields(asked) {
		if a != "offline_access" && !strings.Contains(" "+granted+" ", " "+a+" ") {
			return false
		}
	}
	return true
}

// issue answers §5.1 with a new access token (and a refresh token).
func (s *Server) issue(w http.ResponseWriter, g *grant, withRefresh bool) {
	at := "at-" + random()
	g.expiry = time.Now().Add(s.lifetime)
	s.access[at] = g
	resp := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": int(s.lifetime.Seconds())}
	if g.scope != "" {
		resp["scope"] = g.scope
	}
	if withRefresh {
		rt := "rt-" + random()
		s.refresh[rt] = &grant{client: g.client, user: g.user, scope: g.scope}
		resp["refresh_token"] = rt
	}
	writeJSON(w, 200, resp)
}

// deviceCode is RFC 8628 §3.1–3.2.
func (s *Server) deviceCode(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[r.PostForm.Get("client_id")]
	if !ok {
		oauthError(w, 400, "invalid_client", "AADSTS700016: Application not found in the directory.")
		return
	}
	dc, uc := "dc-"+random(), strings.ToUpper(random()[:8])
	s.devices[dc] = &device{client: c.ID, userCode: uc, scope: r.PostForm.Get("scope"), expiry: time.Now().Add(5 * time.Minute)}
	writeJSON(w, 200, map[string]any{"device_code": dc, "user_code": uc, "verification_uri": s.URL + "/device",
		"expires_in": 300, "interval": 1, "message": "To sign in, open " + s.URL + "/device and enter the code " + uc + "."})
}

// introspect is RFC 7662 §2: {"active": false} for a token unknown,
// expired or revoked; the user as "username" and "email" otherwise.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.access[r.PostForm.Get("token")]
	if g == nil || g.revoked || time.Now().After(g.expiry) {
		writeJSON(w, 200, map[string]any{"active": false})
		return
	}
	writeJSON(w, 200, map[string]any{"active": true, "client_id": g.client, "username": g.user, "email": g.user,
		"scope": g.scope, "exp": g.expiry.Unix(), "token_type": "Bearer"})
}

// readForm reads a form body (§4.1.3: application/x-www-form-urlencoded),
// capped, or answers invalid_request.
func readForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		oauthError(w, 400, "invalid_request", "the body is not application/x-www-form-urlencoded")
		return false
	}
	return true
}

// Active says whether token is an access token in force, and for whom
// (what introspection answers, for a fake resource server).
func (s *Server) Active(token string) (user string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.access[token]
	if g == nil || g.revoked || time.Now().After(g.expiry) {
		return "", false
	}
	return g.user, true
}
