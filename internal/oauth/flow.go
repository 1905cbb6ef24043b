package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/egress"
)

// Flow is a token endpoint that mailmon asks for tokens itself (RFC 6749):
// the client credentials grant (an Entra ID application with
// IMAP.AccessAsApp and the like), or the refresh token grant when
// RefreshToken is set (Google, and Microsoft delegated). A Flow is not
// changed once made: a test's copies of its configuration share it.
type Flow struct {
	TokenURL     string
	ClientID     string
	ClientSecret string // may be empty: a public client (device code login)
	Scopes       []string
	RefreshToken string // "": client credentials

	// ServiceAccountKey is a Google service account's key (its JSON, as
	// the console downloads it): the token then comes from the JWT bearer
	// grant (RFC 7523), signed with the key, for Subject (the mailbox's
	// user, domain-wide delegation), from the key's token_uri.
	ServiceAccountKey string
	Subject           string

	// Owner names whose stored refresh token RefreshToken is (a monitor);
	// Rotated stores a new one the endpoint returned in its place, so
	// that a restart keeps working. Nil: a rotated token lives in memory.
	Owner   string
	Rotated func(ctx context.Context, refresh string) error
	// Stored reads the owner's refresh token as stored now ("": none),
	// which another node on the same database may have rotated since
	// this flow was made; the cache reads it before each refresh. Nil:
	// only this process rotates it.
	Stored func(ctx context.Context) (string, error)

	// Cache keeps tokens across tests, shared by every flow of the same
	// credential; nil: a token per call.
	Cache *Cache

	// Egress is set when the token URL was configured over the network:
	// every address dialled is checked against it (nil: the operator's).
	Egress *egress.Policy
	// CAFile is trusted besides the system's roots (the monitor's ca).
	CAFile string
}

// Secrets are what a test holding this flow must redact: the client
// secret and the refresh token.
func (f *Flow) Secrets() []string {
	return []string{f.ClientSecret, f.RefreshToken, f.ServiceAccountKey}
}

// Token returns an access token: the cached one while it is fresh,
// otherwise a new one from the endpoint.
func (f *Flow) Token(ctx context.Context) (string, error) {
	if f.Cache != nil {
		return f.Cache.token(ctx, f)
	}
	tok, err := f.fetch(ctx, f.RefreshToken)
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// CheckTokenURL: a token URL is https, or http on a loopback address (a
// local test server): the client secret and refresh token cross it.
func CheckTokenURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not a URL (like https://login.example.com/oauth2/token)", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q would send the client secret unencrypted: use https (http only on a loopback address)", raw)
	}
	return fmt.Errorf("%q is not an https URL", raw)
}

// IsLoopback reports whether host is localhost or a loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// Error is the token endpoint's refusal (RFC 6749 §5.2): its error code
// and the description a person can act on (Entra's "AADSTS7000215:
// Invalid client secret provided…").
type Error struct {
	URL         string
	Status      int // HTTP status; 0 when the answer was not an HTTP error
	Code        string
	Description string
	URI         string
	Hint        string // what to do, when not the code's usual (hints)
}

// ServiceAccountHint says what a person does about a refusal of the
// JWT bearer grant (Google's service accounts), in place of the code's
// usual hint: its causes are others. (A switch, not a map: nothing is
// built at start-up, mailmon-check links this package.)
func ServiceAccountHint(code string) string {
	switch code {
	case "unauthorized_client":
		return "domain-wide delegation is not granted for this client id and scope: in the Admin console, " +
			"Security → Access and data control → API controls → Domain-wide delegation, add the service account's client id with the scope https://mail.google.com/"
	case "invalid_grant":
		return "the key was deleted or disabled, the subject is not a user of the Workspace domain, or the machine's clock is off: " +
			"check the key in the Cloud console, the subject, and the time"
	case "invalid_scope":
		return "ask for https://mail.google.com/ (leave scope to the provider)"
	case "invalid_client":
		return "the key's service account was deleted or disabled: make a new key"
	}
	return ""
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("token endpoint ")
	if u, err := url.Parse(e.URL); err == nil && u.Host != "" {
		b.WriteString(u.Host)
	} else {
		b.WriteString(e.URL)
	}
	b.WriteString(" refused: ")
	switch {
	case e.Code != "":
		b.WriteString(e.Code)
	case e.Status != 0:
		fmt.Fprintf(&b, "HTTP %d", e.Status)
	}
	if e.Description != "" {
		b.WriteString(": " + FirstLine(e.Description))
	}
	hint := hints[e.Code]
	if e.Hint != "" {
		hint = e.Hint
	}
	if hint != "" {
		b.WriteString(" (" + hint + ")")
	}
	return b.String()
}

// Refused reports whether the endpoint refused the credentials (4xx), as
// opposed to failing itself (5xx).
func (e *Error) Refused() bool { return e.Status < 500 }

// hints say what a person does about each standard code.
var hints = map[string]string{
	"invalid_client":         "check the client id and secret, and that the secret has not expired",
	"invalid_grant":          "the refresh token expired or was revoked: log in again with mailmon oauth login",
	"unauthorized_client":    "the application may not use this grant: check its registration",
	"invalid_scope":          "check the scope against the permissions granted to the application",
	"unsupported_grant_type": "the endpoint does not offer this flow",
}

// FirstLine is the first line of an answer, at most 300 bytes of it.
func FirstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return strings.TrimSpace(s)
}

// Reply is a token endpoint's answer: the access token, the refresh token
// it rotated in (or ""), and when the access token expires (zero: not
// said).
type Reply struct {
	AccessToken  string
	RefreshToken string
	Expiry       time.Time
}

// fetcher asks a token endpoint; package oauth/endpoint sets it, so that
// a binary that fetches no token (mailmon-check) links no HTTP client.
var fetcher func(ctx context.Context, f *Flow, refresh string) (*Reply, error)

// RegisterFetch is package oauth/endpoint's: it makes flows fetch tokens.
func RegisterFetch(fetch func(ctx context.Context, f *Flow, refresh string) (*Reply, error)) {
	fetcher = fetch
}

// CanFetch reports whether this binary fetches tokens from an endpoint
// (links package oauth/endpoint).
func CanFetch() bool { return fetcher != nil }

// ErrNoEndpoint is a flow's token asked for in a binary that links no
// token endpoint client (mailmon-check hands such checks to mailmon).
var ErrNoEndpoint = errors.New("this program fetches no tokens from an endpoint: run the check with mailmon check")

// fetch asks the endpoint for a token, with refresh when it is set.
func (f *Flow) fetch(ctx context.Context, refresh string) (*Reply, error) {
	if fetcher == nil {
		return nil, ErrNoEndpoint
	}
	return fetcher(ctx, f, refresh)
}
