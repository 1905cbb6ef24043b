package web

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/png"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// Two-factor login (RFC 6238 TOTP, github.com/pquerna/otp): a user
// enrols on /2fa by scanning a QR code drawn here, on the server, and
// typing a code; they get recovery codes, shown once. At login, after the
// password, a code (or an unused recovery code) is asked for; a code is
// good once (the store keeps the last time step taken), and a wrong one
// counts towards the login lockout as a wrong password does.

const (
	pendingCookie = "mailmon_2fa"   // a login waiting for its code
	pendingFor    = 5 * time.Minute // how long it waits
	totpPeriod    = 30              // seconds per code
	recoveryCodes = 10              // made at enrolment
	totpIssuer    = "mailmon"       // the name authenticator apps show
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

type pendingLogin struct {
	userID int64
	next   string
	until  time.Time
}

func (p pendingLogin) expires() time.Time { return p.until }

// putPending adds a login under way to m (held under s.mu), dropping
// those whose time is past: a browser that never finishes leaves
// nothing behind for long.
func putPending[T interface{ expires() time.Time }](m map[string]T, key string, v T, now time.Time) {
	for k, x := range m {
		if now.After(x.expires()) {
			delete(m, k)
		}
	}
	m[key] = v
}

// mustEnrol says whether u must set up a second factor before anything
// else: their role needs one, and their login is local.
func (s *Server) mustEnrol(u *store.User) bool {
	return u.TOTPSecret == "" && u.External == "" && slices.Contains(s.TwoFactorRoles, catalog.Role(u.Role))
}

func totpRecord(userID int64) string { return vault.Record("user", userID, "totp") }

type codeData struct {
	Token, Error string
}

// askCode shows the second step of a login; a new pending login for u
// unless the browser holds one.
func (s *Server) askCode(w http.ResponseWriter, r *http.Request, c *call, u *store.User, next, msg string, status int) error {
	if u != nil {
		id := randomToken()
		s.mu.Lock()
		now := s.Now()
		putPending(s.pending, hashID(id), pendingLogin{userID: u.ID, next: next, until: now.Add(pendingFor)}, now)
		s.mu.Unlock()
		http.SetCookie(w, s.cookie(r, pendingCookie, id, int(pendingFor.Seconds())))
	}
	tok := randomToken()
	http.SetCookie(w, s.cookie(r, loginCookie, tok, 3600))
	s.render(w, c, status, "logincode", "Two-factor login", codeData{Token: tok, Error: msg})
	return nil
}

// loginCode is the login's second step: a code from the user's app, or a
// recovery code.
func (s *Server) loginCode(w http.ResponseWriter, r *http.Request, c *call) error {
	ck, err := r.Cookie(loginCookie)
	if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		return httpError{http.StatusForbidden, "the login form is out of date (CSRF token missing or wrong): reload it and try again"}
	}
	pc, err := r.Cookie(pendingCookie)
	now := s.Now()
	var p pendingLogin
	ok := false
	if err == nil {
		s.mu.Lock()
		p, ok = s.pending[hashID(pc.Value)]
		s.mu.Unlock()
	}
	if !ok || now.After(p.until) {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	u, err := s.Store.User(r.Context(), p.userID)
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	keys := loginKeysOf(u.Name, s.Proxies.Client(r).Addr)
	if wait := s.limiter.loginWait(keys, now); wait > 0 {
		return s.askCode(w, r, c, nil, "", fmt.Sprintf("Too many failed logins: try again in %d seconds.", int(wait.Seconds())+1), http.StatusTooManyRequests)
	}
	good, err := s.checkCode(r.Context(), u, r.PostFormValue("code"), now)
	if err != nil {
		return err
	}
	if !good {
		s.limiter.loginFailed(keys, now)
		return s.askCode(w, r, c, nil, "", "The code is wrong, or was used already: wait for the next one.", http.StatusUnauthorized)
	}
	s.limiter.loginOK(keys)
	s.mu.Lock()
	delete(s.pending, hashID(pc.Value))
	s.mu.Unlock()
	http.SetCookie(w, s.cookie(r, pendingCookie, "", -1))
	return s.startSession(w, r, u, p.next)
}

// checkCode says whether code is u's current TOTP code, not used before,
// or one of u's unused recovery codes (then used up).
func (s *Server) checkCode(ctx context.Context, u *store.User, code string, now time.Time) (bool, error) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if code == "" || u.TOTPSecret == "" || s.Catalog.Vault == nil {
		return false, nil
	}
	secret, err := s.Catalog.Vault.Open(u.TOTPSecret, totpRecord(u.ID))
	if err != nil {
		return false, err
	}
	for _, skew := range []int64{0, -1, 1} {
		t := now.Add(time.Duration(skew*totpPeriod) * time.Second)
		want, err := totp.GenerateCodeCustom(string(secret), t, totpOpts)
		if err != nil {
			return false, err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s.Store.UseTOTPStep(ctx, u.ID, t.Unix()/totpPeriod) // once only
		}
	}
	h := hashID(strings.ToLower(code))
	for i, rc := range u.RecoveryCodes {
		if subtle.ConstantTimeCompare([]byte(rc), []byte(h)) == 1 {
			u.RecoveryCodes = slices.Delete(slices.Clone(u.RecoveryCodes), i, i+1)
			return true, s.Catalog.PutUser(ctx, catalog.Network.As(catalog.User(u.Name, catalog.Role(u.Role), "")), u)
		}
	}
	return false, nil
}

type twoFactorData struct {
	On            bool
	Required      bool
	QR            template.URL // a data: URL of the QR code's PNG
	Secret, Error string
	Recovery      []string // the codes just made, shown once
}

// twoFactorPage shows the user's second factor, or a new secret to enrol.
func (s *Server) twoFactorPage(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.renderTwoFactor(w, c, http.StatusOK, "", "")
}

func (s *Server) renderTwoFactor(w http.ResponseWriter, c *call, status int, secret, msg string) error {
	d := twoFactorData{On: c.user.TOTPSecret != "", Required: s.mustEnrol(c.user), Error: msg}
	if !d.On {
		var key *otp.Key
		var err error
		if secret != "" {
			key, err = otp.NewKeyFromURL(fmt.Sprintf("otpauth://totp/%s:%s?secret=%s&issuer=%s", totpIssuer, c.user.Name, secret, totpIssuer))
		} else {
			key, err = totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: c.user.Name, Period: totpPeriod})
		}
		if err != nil {
			return err
		}
		img, err := key.Image(240, 240)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			return err
		}
		d.Secret, d.QR = key.Secret(), template.URL("data:image/png;base64,"+base64.StdEncoding.EncodeToString(b.Bytes()))
	}
	s.render(w, c, status, "twofactor", "Two-factor login", d)
	return nil
}

// enrol turns the second factor on once the user types a code of the
// secret they were shown; it shows their recovery codes, once.
func (s *Server) enrol(w http.ResponseWriter, r *http.Request, c *call) error {
	u := c.user
	if u.TOTPSecret != "" {
		return s.renderTwoFactor(w, c, http.StatusBadRequest, "", "Two-factor login is on already.")
	}
	if s.Catalog.Vault == nil {
		return httpError{http.StatusServiceUnavailable, "two-factor login needs the storage key"}
	}
	secret, code := strings.TrimSpace(r.PostFormValue("secret")), strings.TrimSpace(r.PostFormValue("code"))
	now := s.Now()
	ok, err := totp.ValidateCustom(code, secret, now, totpOpts)
	if err != nil || !ok {
		return s.renderTwoFactor(w, c, http.StatusBadRequest, secret, "The code does not match: type the one your app shows now.")
	}
	sealed, err := s.Catalog.Vault.Seal([]byte(secret), totpRecord(u.ID))
	if err != nil {
		return err
	}
	var shown, hashes []string
	for range recoveryCodes {
		rc := strings.ToLower(randomToken()[:10])
		shown, hashes = append(shown, rc), append(hashes, hashID(rc))
	}
	nu := *u
	nu.TOTPSecret, nu.RecoveryCodes = sealed, hashes
	if err := s.Catalog.PutUser(r.Context(), c.origin, &nu); err != nil {
		return err
	}
	// The code typed to enrol is used: it does not log in again.
	if _, err := s.Store.UseTOTPStep(r.Context(), u.ID, now.Unix()/totpPeriod); err != nil {
		return err
	}
	c.user = &nu
	s.render(w, c, http.StatusOK, "twofactor", "Two-factor login", twoFactorData{On: true, Recovery: shown})
	return nil
}
