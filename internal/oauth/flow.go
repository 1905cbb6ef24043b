package oauth

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/wire"
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

	// Owner names whose stored refresh token RefreshToken is (a monitor);
	// Rotated stores a new one the endpoint returned in its place, so
	// that a restart keeps working. Nil: a rotated token lives in memory.
	Owner   string
	Rotated func(ctx context.Context, refresh string) error

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
func (f *Flow) Secrets() []string { return []string{f.ClientSecret, f.RefreshToken} }

// fetchTimeout bounds a request that comes without a deadline (oauth
// login); a test's own deadline is shorter.
const fetchTimeout = 30 * time.Second

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

// fetch asks the endpoint for a token, with refresh when it is set. Both
// grants go through clientcredentials.Config, which lets grant_type be
// overridden: the refresh request then carries the scope too, as
// Microsoft's v2.0 endpoint asks, which oauth2.Config's refresher leaves
// out. Credentials go in the body (client_secret_post): both providers
// document it, and auto-detection would make two requests per failure.
func (f *Flow) fetch(ctx context.Context, refresh string) (*oauth2.Token, error) {
	if err := CheckTokenURL(f.TokenURL); err != nil {
		return nil, err
	}
	client, err := f.httpClient()
	if err != nil {
		return nil, err
	}
	cc := clientcredentials.Config{ClientID: f.ClientID, ClientSecret: f.ClientSecret, TokenURL: f.TokenURL,
		Scopes: f.Scopes, AuthStyle: oauth2.AuthStyleInParams}
	if refresh != "" {
		cc.EndpointParams = url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}
	}
	tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, client))
	if err != nil {
		return nil, endpointError(f.TokenURL, err)
	}
	if tok.AccessToken == "" || strings.ContainsAny(tok.AccessToken, "\r\n\x00\x01") {
		return nil, &Error{URL: f.TokenURL, Code: "invalid_response", Description: "the endpoint returned no usable access_token"}
	}
	return tok, nil
}

// httpClient reaches the endpoint: through the egress policy's dial-time
// check when it is set (and then never through a proxy, which would dial
// for us), with the monitor's CA besides the system's roots.
func (f *Flow) httpClient() (*http.Client, error) {
	return HTTPClient(f.Egress, f.CAFile)
}

// HTTPClient is the client of every OAuth endpoint (and of Graph): dials
// held to p (nil: the operator's target, which may go through the
// environment's proxy), the CA in caFile trusted besides the system's.
func HTTPClient(p *egress.Policy, caFile string) (*http.Client, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		roots, err := wire.SystemCAPool(caFile) // one pool per file, not one per call
		if err != nil {
			return nil, fmt.Errorf("ca: %w", err)
		}
		tc.RootCAs = roots
	}
	tr := &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true, MaxIdleConns: 4, IdleConnTimeout: time.Minute,
		TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: fetchTimeout}
	if p != nil {
		tr.DialContext = p.DialContext(nil)
	} else {
		tr.Proxy = http.ProxyFromEnvironment
	}
	return &http.Client{Transport: tr, Timeout: fetchTimeout, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse // a token endpoint does not redirect; a redirect would escape the URL's check
	}}, nil
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
		b.WriteString(": " + firstLine(e.Description))
	}
	if hint := hints[e.Code]; hint != "" {
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

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return strings.TrimSpace(s)
}

// endpointError turns oauth2's error into an *Error where the endpoint
// answered; a network failure is kept as it is (classified by its type).
func endpointError(tokenURL string, err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		var ue *url.Error
		if errors.As(err, &ue) {
			return ue.Err // the URL is said by the caller; keep the cause's type
		}
		return err
	}
	e := &Error{URL: tokenURL, Code: re.ErrorCode, Description: re.ErrorDescription, URI: re.ErrorURI}
	if re.Response != nil {
		e.Status = re.Response.StatusCode
	}
	if e.Code == "" && e.Status < 400 {
		e.Code, e.Description = "invalid_response", "the answer is not a token: "+firstLine(string(re.Body))
	}
	return e
}
