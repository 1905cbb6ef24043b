package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/wire"
)

// Single sign-on by OpenID Connect (github.com/coreos/go-oidc/v3 and
// golang.org/x/oauth2): the authorization code flow with PKCE, a state
// that ties the answer to the browser that asked and a nonce that ties
// the ID token to this login. The provider's ID token (checked: its
// signature by the provider's keys, issuer, audience, expiry) names the
// user; a claim (groups) gives the role through a mapping, or a default.
// The user is kept as a login without a password, marked with the
// provider's subject; a local user of the same name is never taken over.

const (
	ssoCookie = "mailmon_sso"    // the browser's login under way
	ssoFor    = 10 * time.Minute // how long it may take at the provider
)

// SSO is the configuration of single sign-on (serve --oidc-*).
type SSO struct {
	Issuer, ClientID, ClientSecret string
	// RedirectURL is this server's callback, BASE/login/oidc/callback:
	// register it with the provider.
	RedirectURL string
	// RoleClaim is the claim that lists the user's groups (default
	// "groups"); Roles maps a group to a role (the strongest of the
	// user's groups wins); DefaultRole is the role of a user none of
	// whose groups is mapped ("": such a user is refused).
	RoleClaim   string
	Roles       map[string]catalog.Role
	DefaultRole catalog.Role
	// Client makes the requests to the provider (default: one with a
	// 10-second timeout).
	Client *http.Client

	mu       sync.Mutex
	provider *oidc.Provider // found once, by discovery
}

type ssoPending struct {
	state, nonce, verifier, next string
	until                        time.Time
}

func (p ssoPending) expires() time.Time { return p.until }

// discover finds the provider's endpoints and keys, once.
func (o *SSO) discover(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.provider, nil
	}
	p, err := oidc.NewProvider(o.ctx(ctx), o.Issuer)
	if err != nil {
		return nil, fmt.Errorf("single sign-on: the provider %s: %w", o.Issuer, err)
	}
	o.provider = p
	return p, nil
}

// ctx carries the client the requests to the provider use.
func (o *SSO) ctx(ctx context.Context) context.Context {
	c := o.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	return oidc.ClientContext(ctx, c)
}

func (o *SSO) config(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, Endpoint: p.Endpoint(), RedirectURL: o.RedirectURL,
		Scopes: []string{oidc.ScopeOpenID, "profile", "email", o.roleClaim()}}
}

func (o *SSO) roleClaim() string {
	if o.RoleClaim == "" {
		return "groups"
	}
	return o.RoleClaim
}

// role is the strongest role the claim's groups map to, else the default.
func (o *SSO) role(claim any) catalog.Role {
	var groups []string
	switch v := claim.(type) {
	case string:
		groups = strings.Fields(strings.ReplaceAll(v, ",", " "))
	case []any:
		for _, g := range v {
			if s, ok := g.(string); ok {
				groups = append(groups, s)
			}
		}
	}
	best := o.DefaultRole
	for _, g := range groups {
		if r, ok := o.Roles[g]; ok && (best == "" || r.Allows(best)) {
			best = r
		}
	}
	return best
}

// ssoStart sends the browser to the provider.
func (s *Server) ssoStart(w http.ResponseWriter, r *http.Request, c *call) error {
	if s.SSO == nil {
		return httpError{http.StatusNotFound, "single sign-on is not configured"}
	}
	p, err := s.SSO.discover(r.Context())
	if err != nil {
		s.Log.Error("single sign-on", "err", err)
		return httpError{http.StatusBadGateway, "the identity provider cannot be reached: try again, or ask the administrator"}
	}
	pend := ssoPending{state: randomToken(), nonce: randomToken(), verifier: oauth2.GenerateVerifier(),
		next: safeNext(r.URL.Query().Get("next")), until: s.Now().Add(ssoFor)}
	id := randomToken()
	s.mu.Lock()
	putPending(s.ssoPending, hashID(id), pend, s.Now())
	s.mu.Unlock()
	http.SetCookie(w, s.cookie(r, ssoCookie, id, int(ssoFor.Seconds())))
	http.Redirect(w, r, s.SSO.config(p).AuthCodeURL(pend.state, oidc.Nonce(pend.nonce), oauth2.S256ChallengeOption(pend.verifier)), http.StatusSeeOther)
	return nil
}

// ssoRefused is a single sign-on login refused: the reason, and a way on.
func ssoRefused(msg string) error {
	return httpError{http.StatusForbidden, "Single sign-on refused: " + msg + " Start again from the login page."}
}

// ssoCallback is where the provider sends the browser back.
func (s *Server) ssoCallback(w http.ResponseWriter, r *http.Request, c *call) error {
	if s.SSO == nil {
		return httpError{http.StatusNotFound, "single sign-on is not configured"}
	}
	ck, err := r.Cookie(ssoCookie)
	var pend ssoPending
	ok := false
	if err == nil {
		s.mu.Lock()
		pend, ok = s.ssoPending[hashID(ck.Value)]
		delete(s.ssoPending, hashID(ck.Value)) // one answer per start
		s.mu.Unlock()
		http.SetCookie(w, s.cookie(r, ssoCookie, "", -1))
	}
	q := r.URL.Query()
	switch {
	case !ok || s.Now().After(pend.until):
		return ssoRefused("this browser started no login, or it took too long.")
	case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(pend.state)) != 1:
		return ssoRefused("the answer's state is not this login's.")
	case q.Get("error") != "":
		return ssoRefused("the provider said " + wire.Sanitize(q.Get("error")) + ".")
	}
	p, err := s.SSO.discover(r.Context())
	if err != nil {
		return err
	}
	ctx := s.SSO.ctx(r.Context())
	tok, err := s.SSO.config(p).Exchange(ctx, q.Get("code"), oauth2.VerifierOption(pend.verifier))
	if err != nil {
		s.Log.Warn("single sign-on: exchanging the code", "err", err)
		return ssoRefused("the provider did not take the code.")
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: s.SSO.ClientID}).Verify(ctx, raw)
	if err != nil {
		s.Log.Warn("single sign-on: the ID token", "err", err)
		return ssoRefused("the provider's ID token is not valid.")
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(pend.nonce)) != 1 {
		return ssoRefused("the ID token's nonce is not this login's.")
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return err
	}
	if claims["preferred_username"] == nil || claims[s.SSO.roleClaim()] == nil {
		// Some providers put the profile and the groups in userinfo only.
		if ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil && ui.Subject == idt.Subject {
			more := map[string]any{}
			if ui.Claims(&more) == nil {
				for k, v := range more {
					if claims[k] == nil {
						claims[k] = v
					}
				}
			}
		}
	}
	u, err := s.ssoUser(r.Context(), r, idt.Subject, claims)
	if err != nil {
		return err
	}
	return s.startSession(w, r, u, pend.next)
}

// ssoUser finds or makes the login of the provider's subject, with the
// role its claims give now.
func (s *Server) ssoUser(ctx context.Context, r *http.Request, subject string, claims map[string]any) (*store.User, error) {
	name := ""
	for _, k := range []string{"preferred_username", "email", "sub"} {
		if v, _ := claims[k].(string); v != "" {
			name = v
			break
		}
	}
	if n := utf8.RuneCountInString(name); n < 1 || n > 64 || strings.ContainsAny(name, " \t\r\n") || config.CheckName(name) != nil {
		return nil, ssoRefused(fmt.Sprintf("the provider's user name %q is not usable here (1 to 64 characters, no spaces).", wire.Sanitize(name)))
	}
	role := s.SSO.role(claims[s.SSO.roleClaim()])
	if role == "" {
		return nil, ssoRefused("none of your groups has a role here: ask an admin to map one (serve --oidc-roles), or to set --oidc-default-role.")
	}
	external := s.SSO.Issuer + " " + subject
	o := catalog.Operator.As(catalog.Actor{Name: "single sign-on", Address: s.Proxies.Client(r).Addr})
	u, err := s.Store.UserByName(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		u = &store.User{Name: name, Role: string(role), External: external}
		return u, s.Catalog.PutUser(ctx, o, u)
	case err != nil:
		return nil, err
	case u.External != external:
		return nil, ssoRefused(fmt.Sprintf("a local user is named %q already: an admin can rename or delete it.", wire.Sanitize(name)))
	case u.Role != string(role):
		u.Role = string(role)
		return u, s.Catalog.PutUser(ctx, o, u)
	}
	return u, nil
}
