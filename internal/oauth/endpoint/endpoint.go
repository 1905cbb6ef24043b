// Package endpoint is the HTTP side of OAuth: it asks token endpoints
// for tokens (RFC 6749, with golang.org/x/oauth2), runs the device login
// (RFC 8628), and makes the HTTP client of every OAuth endpoint and of
// Graph. It registers itself with package oauth, whose flows then fetch
// through it; a binary that does not link it (mailmon-check) links no
// HTTP client.
package endpoint

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/wire"
)

func init() { oauth.RegisterFetch(fetch) }

// fetchTimeout bounds a request that comes without a deadline (oauth
// login); a test's own deadline is shorter.
const fetchTimeout = 30 * time.Second

// fetch asks the endpoint for a token (oauth.Flow's, registered), with refresh when it is set. Both
// grants go through clientcredentials.Config, which lets grant_type be
// overridden: the refresh request then carries the scope too, as
// Microsoft's v2.0 endpoint asks, which oauth2.Config's refresher leaves
// out. Credentials go in the body (client_secret_post): both providers
// document it, and auto-detection would make two requests per failure.
func fetch(ctx context.Context, f *oauth.Flow, refresh string) (*oauth.Reply, error) {
	if f.ServiceAccountKey != "" {
		return fetchServiceAccount(ctx, f) // serviceaccount.go
	}
	if err := oauth.CheckTokenURL(f.TokenURL); err != nil {
		return nil, err
	}
	client, err := HTTPClient(f.Egress, f.CAFile)
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
		return nil, &oauth.Error{URL: f.TokenURL, Code: "invalid_response", Description: "the endpoint returned no usable access_token"}
	}
	return &oauth.Reply{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry}, nil
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

// Prompt is what the person at the terminal is told to do (RFC 8628
// §3.3): open VerificationURI and enter UserCode.
type Prompt struct {
	VerificationURI string
	UserCode        string
}

// DeviceLogin runs the device authorization grant (RFC 8628): it asks
// deviceURL for a code, shows the prompt, and polls the token endpoint at
// the interval the server asks until the person has consented, declined,
// or the code expired. It returns the refresh token to store (the access
// token is thrown away: monitors fetch their own).
func DeviceLogin(ctx context.Context, f *oauth.Flow, deviceURL string, show func(Prompt)) (string, error) {
	if err := oauth.CheckTokenURL(f.TokenURL); err != nil {
		return "", err
	}
	if err := oauth.CheckTokenURL(deviceURL); err != nil {
		return "", err
	}
	client, err := HTTPClient(f.Egress, f.CAFile)
	if err != nil {
		return "", err
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, client)
	c := oauth2.Config{ClientID: f.ClientID, ClientSecret: f.ClientSecret, Scopes: f.Scopes,
		Endpoint: oauth2.Endpoint{TokenURL: f.TokenURL, DeviceAuthURL: deviceURL, AuthStyle: oauth2.AuthStyleInParams}}
	da, err := c.DeviceAuth(ctx)
	if err != nil {
		return "", endpointError(deviceURL, err)
	}
	uri := da.VerificationURI
	if da.VerificationURIComplete != "" {
		uri = da.VerificationURIComplete
	}
	show(Prompt{VerificationURI: uri, UserCode: da.UserCode})
	tok, err := c.DeviceAccessToken(ctx, da)
	if err != nil {
		return "", endpointError(f.TokenURL, err)
	}
	if tok.RefreshToken == "" {
		return "", errors.New("the endpoint returned no refresh token: ask for the offline_access scope (Microsoft) or an installed-app client (Google)")
	}
	return tok.RefreshToken, nil
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
	e := &oauth.Error{URL: tokenURL, Code: re.ErrorCode, Description: re.ErrorDescription, URI: re.ErrorURI}
	if re.Response != nil {
		e.Status = re.Response.StatusCode
	}
	if e.Code == "" && e.Status < 400 {
		e.Code, e.Description = "invalid_response", "the answer is not a token: "+oauth.FirstLine(string(re.Body))
	}
	return e
}
