package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
)

const (
	sessionCookie = "mailmon_session"
	loginCookie   = "mailmon_login" // the login form's CSRF token (no session yet)
)

// randomToken is 32 random bytes in hex.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func hashID(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// CheckPassword says what is wrong with a new password, or nil.
func CheckPassword(pw string) error {
	switch {
	case utf8.RuneCountInString(pw) < 8:
		return errors.New("a password has at least 8 characters")
	case len(pw) > 72:
		return errors.New("a password has at most 72 bytes (bcrypt's limit)")
	}
	return nil
}

// AddUser creates a login (mailmon user add, the demo's admin).
func AddUser(ctx context.Context, st store.Store, name, password string, cost int) (*store.User, error) {
	if n := utf8.RuneCountInString(name); n < 1 || n > 64 || strings.ContainsAny(name, " \t\r\n") {
		return nil, errors.New("a user name is 1 to 64 characters without spaces")
	}
	if err := config.CheckName(name); err != nil {
		return nil, fmt.Errorf("user name: %v", err)
	}
	if err := CheckPassword(password); err != nil {
		return nil, err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), costOr(cost))
	if err != nil {
		return nil, err
	}
	u := &store.User{Name: name, Hash: string(h)}
	if err := st.PutUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("user %q exists", name)
		}
		return nil, err
	}
	return u, nil
}

// SetPassword replaces a user's password and ends the user's sessions but
// keep ("" ends them all).
func SetPassword(ctx context.Context, st store.Store, u *store.User, password, keep string, cost int) error {
	if err := CheckPassword(password); err != nil {
		return err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), costOr(cost))
	if err != nil {
		return err
	}
	u.Hash = string(h)
	if err := st.PutUser(ctx, u); err != nil {
		return err
	}
	return st.DeleteSessions(ctx, u.ID, keep)
}

func costOr(c int) int {
	if c == 0 {
		return bcrypt.DefaultCost
	}
	return c
}

// authenticate finds the request's session and user; an expired session
// is deleted.
func (s *Server) authenticate(r *http.Request) (*store.User, *store.Session, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, nil, errors.New("no session")
	}
	ctx := r.Context()
	se, err := s.Store.SessionByHash(ctx, hashID(ck.Value))
	if errors.Is(err, store.ErrUnavailable) {
		return nil, nil, err // not a missing session: said as such (health.go)
	}
	if err != nil {
		return nil, nil, errors.New("no session")
	}
	now := s.Now()
	if !s.alive(se, now) {
		s.Store.DeleteSession(context.WithoutCancel(ctx), se.Hash)
		return nil, nil, errors.New("the session expired")
	}
	u, err := s.Store.User(ctx, se.UserID)
	if err != nil {
		return nil, nil, errors.New("no session")
	}
	if now.Sub(se.Seen) > time.Minute { // not a write per request
		s.Store.TouchSession(context.WithoutCancel(ctx), se.Hash, now)
		se.Seen = now
	}
	return u, se, nil
}

func (s *Server) alive(se *store.Session, now time.Time) bool {
	return now.Sub(se.Seen) < s.IdleTimeout && now.Sub(se.Created) < s.MaxAge
}

// sameOrigin refuses a state-changing request another site's page made:
// by Sec-Fetch-Site where the browser sends it, else by Origin.
func sameOrigin(r *http.Request, host string) error {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return errors.New("cross-site request refused")
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != host {
			return errors.New("cross-origin request refused")
		}
	}
	return nil
}

// csrfOK checks the token of a form (csrf) or a script (X-CSRF-Token).
func (s *Server) csrfOK(r *http.Request, se *store.Session) bool {
	tok := r.Header.Get("X-CSRF-Token")
	if tok == "" {
		tok = r.PostFormValue("csrf")
	}
	return tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(se.CSRF)) == 1
}

// cookie is Secure when the UI is served over TLS, by mailmon or by a
// trusted proxy.
func (s *Server) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	secure := s.Secure || s.Proxies.Client(r).Scheme == "https"
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
}

type loginData struct {
	Next, Name, Error, Token string
}

// safeNext keeps a redirect after login on this site.
func safeNext(n string) string {
	if !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.HasPrefix(n, "/\\") || strings.HasPrefix(n, "/login") {
		return "/"
	}
	return n
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, c *call) error {
	if u, se, err := s.authenticate(r); err == nil {
		c.user, c.session = u, se
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	tok := randomToken()
	http.SetCookie(w, s.cookie(r, loginCookie, tok, 3600))
	s.render(w, c, http.StatusOK, "login", "Log in", loginData{Next: safeNext(r.URL.Query().Get("next")), Token: tok})
	return nil
}

func (s *Server) login(w http.ResponseWriter, r *http.Request, c *call) error {
	name, pw := r.PostFormValue("name"), r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	ck, err := r.Cookie(loginCookie)
	if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		return httpError{http.StatusForbidden, "the login form is out of date (CSRF token missing or wrong): reload it and try again"}
	}
	again := func(status int, msg string) error {
		tok := randomToken()
		http.SetCookie(w, s.cookie(r, loginCookie, tok, 3600))
		s.render(w, c, status, "login", "Log in", loginData{Next: next, Name: name, Error: msg, Token: tok})
		return nil
	}
	now := s.Now()
	client := s.Proxies.Client(r).Addr
	keys := loginKeysOf(name, client)
	if wait := s.limiter.loginWait(keys, now); wait > 0 {
		return again(http.StatusTooManyRequests, fmt.Sprintf("Too many failed logins: try again in %d seconds.", int(wait.Seconds())+1))
	}
	u, err := s.Store.UserByName(r.Context(), name)
	hash := s.noSuchUser.get(s.BcryptCost)
	if err == nil {
		hash = []byte(u.Hash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pw)) != nil || err != nil {
		s.limiter.loginFailed(keys, now)
		// The client's address (through trusted proxies), for fail2ban and
		// the like; the name as the form gave it, quoted by the handler.
		s.Log.Warn("web login failed", "user", name, "client", client)
		return again(http.StatusUnauthorized, "The user name or the password is wrong.")
	}
	s.limiter.loginOK(keys)
	if old, err := r.Cookie(sessionCookie); err == nil && old.Value != "" {
		s.Store.DeleteSession(r.Context(), hashID(old.Value)) // a new session replaces the browser's old one
	}
	id := randomToken()
	se := &store.Session{Hash: hashID(id), UserID: u.ID, CSRF: randomToken(), Created: now, Seen: now}
	if err := s.Store.PutSession(r.Context(), se); err != nil {
		return err
	}
	if _, err := s.Store.PruneSessions(r.Context(), now.Add(-s.IdleTimeout), now.Add(-s.MaxAge)); err != nil {
		s.Log.Warn("pruning sessions", "err", err)
	}
	http.SetCookie(w, s.cookie(r, sessionCookie, id, 0))
	http.SetCookie(w, s.cookie(r, loginCookie, "", -1))
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, c *call) error {
	s.Store.DeleteSession(r.Context(), c.session.Hash)
	s.endStreams(c.session.Hash)
	http.SetCookie(w, s.cookie(r, sessionCookie, "", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

type passwordData struct {
	Error, Done string
}

func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request, c *call) error {
	s.render(w, c, http.StatusOK, "password", "Change password", passwordData{})
	return nil
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, c *call) error {
	cur, pw, again := r.PostFormValue("current"), r.PostFormValue("new"), r.PostFormValue("again")
	fail := func(msg string) error {
		s.render(w, c, http.StatusBadRequest, "password", "Change password", passwordData{Error: msg})
		return nil
	}
	now := s.Now()
	key := "password:" + c.user.Name // a session's guesses at its user's password
	if wait := s.limiter.blocked([]string{key}, pairLimit, now); wait > 0 {
		return fail(fmt.Sprintf("Too many failed attempts: try again in %d seconds.", int(wait.Seconds())+1))
	}
	if bcrypt.CompareHashAndPassword([]byte(c.user.Hash), []byte(cur)) != nil {
		s.limiter.fail(now, map[string]int{key: pairLimit})
		return fail("The current password is wrong.")
	}
	if pw != again {
		return fail("The new passwords differ.")
	}
	if err := SetPassword(r.Context(), s.Store, c.user, pw, c.session.Hash, s.BcryptCost); err != nil {
		return fail(err.Error())
	}
	s.render(w, c, http.StatusOK, "password", "Change password", passwordData{Done: "The password is changed; your other sessions are logged out."})
	return nil
}

// NewPassword makes a random password (the demo's login).
func NewPassword() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}
