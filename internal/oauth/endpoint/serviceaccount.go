package endpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"

	"github.com/mailmon/mailmon/internal/oauth"
)

// serviceAccountKey is what mailmon reads of a Google service account key
// file (the console's JSON download).
type serviceAccountKey struct {
	Type         string `json:"type"`
	ClientEmail  string `json:"client_email"`
	ClientID     string `json:"client_id"`
	PrivateKey   string `json:"private_key"`
	PrivateKeyID string `json:"private_key_id"`
	TokenURI     string `json:"token_uri"`
}

// parseServiceAccountKey reads a key, saying what is wrong with it
// without quoting it. The token URL is the key's token_uri (Google's
// when the key has none), held to the token URL's rule (https, http only
// on loopback).
func parseServiceAccountKey(raw, defaultTokenURL string) (*serviceAccountKey, error) {
	var k serviceAccountKey
	if err := json.Unmarshal([]byte(raw), &k); err != nil {
		return nil, errors.New("the service account key is not JSON: give the key file the Cloud console downloaded (Keys → Add key → JSON)")
	}
	switch {
	case k.Type != "service_account":
		return nil, fmt.Errorf("the key's type is %q, not service_account: give a service account's key, not an OAuth client's", k.Type)
	case k.ClientEmail == "" || k.PrivateKey == "":
		return nil, errors.New("the service account key has no client_email or private_key")
	}
	if k.TokenURI == "" {
		k.TokenURI = defaultTokenURL
	}
	if err := oauth.CheckTokenURL(k.TokenURI); err != nil {
		return nil, fmt.Errorf("the key's token_uri: %w", err)
	}
	return &k, nil
}

// fetchServiceAccount is the JWT bearer grant (RFC 7523 §2.1) of a
// service account with domain-wide delegation: an assertion signed with
// the key (RS256), issued by the account, for the subject (the mailbox),
// with the scopes, its audience the token URL. golang.org/x/oauth2/jwt
// makes and posts it; not x/oauth2/google, whose key parsing is the same
// few lines but whose package brings the GCE metadata client along.
func fetchServiceAccount(ctx context.Context, f *oauth.Flow) (*oauth.Reply, error) {
	k, err := parseServiceAccountKey(f.ServiceAccountKey, f.TokenURL)
	if err != nil {
		return nil, err
	}
	if f.Subject == "" {
		return nil, errors.New("a service account needs the subject: the mailbox's user it acts as (domain-wide delegation)")
	}
	client, err := HTTPClient(f.Egress, f.CAFile)
	if err != nil {
		return nil, err
	}
	// x/oauth2/jwt flattens a transport error into text (%v): keep it
	// here, so that a refused dial or a timeout is classified by its type.
	rec := &lastError{next: client.Transport}
	client.Transport = rec
	c := jwt.Config{Email: k.ClientEmail, PrivateKey: []byte(k.PrivateKey), PrivateKeyID: k.PrivateKeyID,
		Subject: f.Subject, Scopes: f.Scopes, TokenURL: k.TokenURI}
	tok, err := c.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, client)).Token()
	if err != nil {
		if rec.err != nil {
			return nil, rec.err
		}
		return nil, serviceAccountError(k.TokenURI, err)
	}
	if tok.AccessToken == "" || strings.ContainsAny(tok.AccessToken, "\r\n\x00\x01") {
		return nil, &oauth.Error{URL: k.TokenURI, Code: "invalid_response", Description: "the endpoint returned no usable access_token"}
	}
	return &oauth.Reply{AccessToken: tok.AccessToken, Expiry: tok.Expiry}, nil
}

// serviceAccountError is endpointError for the JWT grant: x/oauth2/jwt
// leaves the body of a refusal unparsed, so its §5.2 error is read here;
// a key that does not parse says so without quoting it.
func serviceAccountError(tokenURL string, err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		if strings.Contains(err.Error(), "private key") || strings.Contains(err.Error(), "PEM") {
			return errors.New("the service account key's private_key is not an RSA key in PEM: download a new JSON key")
		}
		return endpointError(tokenURL, err)
	}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		URI         string `json:"error_uri"`
	}
	if re.ErrorCode == "" && json.Unmarshal(re.Body, &body) == nil {
		re.ErrorCode, re.ErrorDescription, re.ErrorURI = body.Error, body.Description, body.URI
	}
	e := endpointError(tokenURL, re)
	if oe := (*oauth.Error)(nil); errors.As(e, &oe) {
		oe.Hint = oauth.ServiceAccountHint(oe.Code)
	}
	return e
}

// lastError is a transport that keeps the error of its last request.
type lastError struct {
	next http.RoundTripper
	err  error
}

func (l *lastError) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	l.err = err
	return resp, err
}
