package config

import (
	"strings"

	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
)

// OAuth is a monitor's token endpoint: mailmon fetches and refreshes its
// own tokens, with the client credentials grant or, when a refresh token
// is given (mailmon oauth login), the refresh token grant. A provider
// fills the token URL, the scope and the servers' defaults; without one,
// token_url and scope are given.
//
// The client secret and the refresh token are sealed like a password and
// bound to the token URL, the client id and the mail server: a change of
// any of them over the network drops them (secretbind). The token URL is a
// target: set over the network it is held to the egress policy.
type OAuth struct {
	Provider     string    `yaml:"provider,omitempty" json:"provider,omitempty"` // microsoft | google
	Tenant       string    `yaml:"tenant,omitempty" json:"tenant,omitempty"`     // microsoft: directory id or domain
	TokenURL     string    `yaml:"token_url,omitempty" json:"token_url,omitempty"`
	ClientID     string    `yaml:"client_id,omitempty" json:"client_id,omitempty"`
	ClientSecret SecretRef `yaml:"client_secret,omitempty" json:"-"`
	Scope        string    `yaml:"scope,omitempty" json:"scope,omitempty"` // space-separated
	RefreshToken SecretRef `yaml:"refresh_token,omitempty" json:"-"`
	// A Google service account with domain-wide delegation: its key (the
	// console's JSON, a secret) and the user it acts as (default: the
	// monitor's user). It takes the place of client_id and client_secret.
	ServiceAccountKey SecretRef `yaml:"service_account_key,omitempty" json:"-"`
	Subject           string    `yaml:"subject,omitempty" json:"subject,omitempty"`
}

// The names of a monitor's OAuth secrets in the store and the vault: the
// monitor's oauth block's, and its SMTP leg's (smtp.oauth).
const (
	SecretOAuthClient      = "oauth.client_secret"
	SecretOAuthRefresh     = "oauth.refresh_token"
	SecretSMTPOAuthClient  = "smtp." + SecretOAuthClient
	SecretSMTPOAuthRefresh = "smtp." + SecretOAuthRefresh
	SecretOAuthSAKey       = "oauth.service_account_key"
	SecretSMTPOAuthSAKey   = "smtp." + SecretOAuthSAKey
)

// SAKeySecret names the stored service account key, as RefreshSecret.
func SAKeySecret(leg string) string {
	if leg == "smtp" {
		return SecretSMTPOAuthSAKey
	}
	return SecretOAuthSAKey
}

// RefreshSecret names the stored refresh token of the token source of
// the monitor (leg "") or of its SMTP leg ("smtp").
func RefreshSecret(leg string) string {
	if leg == "smtp" {
		return SecretSMTPOAuthRefresh
	}
	return SecretOAuthRefresh
}

// ClientSecret names the stored client secret, as RefreshSecret.
func ClientSecret(leg string) string {
	if leg == "smtp" {
		return SecretSMTPOAuthClient
	}
	return SecretOAuthClient
}

// Endpoint returns the token URL and the scope, the provider's where they
// are left out; refresh says whether the flow is a person's (refresh
// token) or the application's own, graph whether the token is for
// Microsoft Graph.
func (o *OAuth) Endpoint(refresh, graph bool) (tokenURL, scope string, err error) {
	tokenURL, scope = o.TokenURL, o.Scope
	if o.Provider == "" {
		return tokenURL, scope, nil
	}
	p, err := oauth.Preset(o.Provider, o.Tenant)
	if err != nil {
		return tokenURL, scope, err
	}
	if tokenURL == "" {
		tokenURL = p.TokenURL
	}
	if scope == "" {
		switch {
		case graph:
			scope = p.GraphScope
		case refresh:
			scope = p.UserScope
		default:
			scope = p.AppScope
		}
	}
	return tokenURL, scope, nil
}

// Flow is the probe's token source for this block, with the secrets
// given (the caller resolves or opens them); refresh "" is the client
// credentials grant.
func (o *OAuth) Flow(typ, secret, refresh string) *oauth.Flow {
	tokenURL, scope, _ := o.Endpoint(refresh != "", strings.HasPrefix(typ, "graph"))
	return &oauth.Flow{TokenURL: tokenURL, ClientID: o.ClientID, ClientSecret: secret, RefreshToken: refresh,
		Scopes: strings.Fields(scope), Subject: o.Subject}
}

// ServiceAccount reports whether the block is a Google service
// account's (the key is stored, or the subject given): no client id or
// secret then.
func (o *OAuth) ServiceAccount() bool { return o.ServiceAccountKey.Set() || o.Subject != "" }

// validate reports the block's own errors; false when it did (the probe
// checks the token URL, client id and secret again, and would repeat them).
func (o *OAuth) validate(p string, add func(path, format string, args ...any)) bool {
	ok := true
	add0 := add
	add = func(path, format string, args ...any) { ok = false; add0(path, format, args...) }
	if o.Provider != "" {
		if _, err := oauth.Preset(o.Provider, o.Tenant); err != nil {
			field := ".provider"
			if strings.EqualFold(o.Provider, "microsoft") || strings.EqualFold(o.Provider, "google") {
				field = ".tenant"
			}
			add(p+".oauth"+field, "%v", err)
			return false
		}
	} else if o.Tenant != "" {
		add(p+".oauth.tenant", "applies with provider: microsoft")
	}
	tokenURL, scope, _ := o.Endpoint(o.RefreshToken.Set(), false)
	switch {
	case tokenURL == "":
		add(p+".oauth.token_url", "is required without a provider (microsoft, google)")
	default:
		if err := oauth.CheckTokenURL(tokenURL); err != nil {
			add(p+".oauth.token_url", "%v", err)
		}
	}
	switch {
	case o.ServiceAccountKey.Set() || o.Subject != "":
		if o.ClientSecret.Set() || o.RefreshToken.Set() {
			add(p+".oauth.service_account_key", "takes the place of client_secret and refresh_token: give one or the other")
		}
	case o.ClientID == "":
		add(p+".oauth.client_id", "is required: the application (client) id of the app registration (a Google service account gives service_account_key and subject instead)")
	}
	if scope == "" && o.Provider == "" {
		add(p+".oauth.scope", "is required without a provider (for Microsoft 365: https://outlook.office365.com/.default)")
	}
	return ok
}

// applyOAuthDefaults fills, for a round trip with a token endpoint, the
// probe's addresses (the mailbox logged in to) and, with a provider, the
// TLS mode of its mailbox (implicit, 993 and 995) and, for a round trip
// without an SMTP leg, the provider's submission server (587, STARTTLS)
// logging in with the same token source (Graph sends with sendMail).
func (m *Monitor) applyOAuthDefaults() {
	m.SMTP.applyLegOAuthDefaults()
	if m.OAuth == nil {
		return
	}
	k, _ := kinds.Lookup(m.Type)
	if k.RoundTrip && m.To == "" && strings.Contains(m.User, "@") {
		m.To = m.User // the probe mailbox is the one logged in to
	}
	if k.RoundTrip && m.From == "" {
		m.From = m.To
	}
	p, err := oauth.Preset(m.OAuth.Provider, m.OAuth.Tenant)
	if err != nil {
		return
	}
	if m.TLS == "" {
		m.TLS = string(probe.TLSImplicit)
		if k.Protocol == "smtp" {
			m.TLS = string(probe.TLSStartTLS)
		}
	}
	if k.RoundTrip && m.SMTP == nil && k.Protocol != "graph" { // Graph sends with sendMail
		m.SMTP = &Leg{Host: p.SMTP, Port: 587, TLS: string(probe.TLSStartTLS), Auth: "XOAUTH2"}
	}
}

// legOAuth says whether the SMTP leg logs in with the monitor's token
// source: it has no oauth block of its own, names an OAuth mechanism and
// no user of its own.
func (l *Leg) legOAuth(m *Monitor) bool {
	a := strings.ToUpper(l.Auth)
	return m.OAuth != nil && l.OAuth == nil && l.User == "" && (a == "XOAUTH2" || a == "OAUTHBEARER")
}

// applyLegOAuthDefaults fills, for an SMTP leg with its own oauth block,
// its mechanism (XOAUTH2) and, with a provider, its submission server
// (587, STARTTLS).
func (l *Leg) applyLegOAuthDefaults() {
	if l == nil || l.OAuth == nil {
		return
	}
	if l.Auth == "" {
		l.Auth = "XOAUTH2"
	}
	p, err := oauth.Preset(l.OAuth.Provider, l.OAuth.Tenant)
	if err != nil {
		return
	}
	if l.Host == "" {
		l.Host = p.SMTP
	}
	if l.Port == 0 && l.TLS == "" {
		l.Port, l.TLS = 587, string(probe.TLSStartTLS)
	}
}

// validateOAuth checks the leg's oauth block (path p is the leg's) and
// puts a placeholder flow in its probe configuration c, as the monitor's.
func (l *Leg) validateOAuth(p string, c *probe.Config, add func(path, format string, args ...any)) {
	user := l.User
	if c != nil {
		user = c.User
	}
	f := l.OAuth.placeholderFlow("smtp", user)
	if !l.OAuth.validate(p, add) {
		f = &oauth.Flow{TokenURL: "https://placeholder.invalid/", ClientID: "placeholder", ClientSecret: "placeholder"}
	}
	if c != nil {
		c.Password, c.OAuthToken = "", oauth.Source{Flow: f}
	}
}

// placeholderFlow is the block's flow with placeholder secrets, for the
// probe's own validation (secrets are checked by apply): a service
// account's acts for user when it names no subject.
func (o *OAuth) placeholderFlow(typ, user string) *oauth.Flow {
	if !o.ServiceAccount() {
		return o.Flow(typ, "placeholder", "")
	}
	f := o.Flow(typ, "", "")
	f.ServiceAccountKey = "placeholder"
	if f.Subject == "" {
		f.Subject = user
	}
	return f
}
