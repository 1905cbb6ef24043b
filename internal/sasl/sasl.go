// Package sasl holds the SASL mechanisms mailmon's clients authenticate with
// and the choice among them. PLAIN and OAUTHBEARER come from go-sasl; LOGIN,
// CRAM-MD5 and XOAUTH2 are small enough to keep here (go-sasl is dropping
// LOGIN and XOAUTH2, and has no CRAM-MD5 client).
package sasl

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	gosasl "github.com/emersion/go-sasl"
)

// Mechanism names.
const (
	Plain       = "PLAIN"
	Login       = "LOGIN"
	CRAMMD5     = "CRAM-MD5"
	XOAuth2     = "XOAUTH2"
	OAuthBearer = "OAUTHBEARER"
)

// Client is a SASL client mechanism (go-sasl's interface).
type Client = gosasl.Client

// Credentials are what a mechanism may need.
type Credentials struct {
	User     string
	Password string
	Token    string // OAuth2 bearer token
	Host     string // for OAUTHBEARER
	Port     int
}

// New returns the client side of mechanism mech.
func New(mech string, c Credentials) (Client, error) {
	switch strings.ToUpper(mech) {
	case Plain:
		return gosasl.NewPlainClient("", c.User, c.Password), nil
	case Login:
		return &loginClient{user: c.User, password: c.Password}, nil
	case CRAMMD5:
		return &cramClient{user: c.User, password: c.Password}, nil
	case XOAuth2:
		return &xoauth2Client{user: c.User, token: c.Token}, nil
	case OAuthBearer:
		return &oauthBearerClient{Client: gosasl.NewOAuthBearerClient(&gosasl.OAuthBearerOptions{
			Username: c.User, Token: c.Token, Host: c.Host, Port: c.Port,
		})}, nil
	}
	return nil, fmt.Errorf("unknown SASL mechanism %q", mech)
}

// SendsSecretInClear reports whether mech puts the password or token on the
// wire in a form anyone on the path can reuse.
func SendsSecretInClear(mech string) bool {
	switch strings.ToUpper(mech) {
	case CRAMMD5, "APOP":
		return false
	}
	return true
}

// Known reports whether mech is a mechanism mailmon can use.
func Known(mech string) bool {
	return slices.Contains([]string{Plain, Login, CRAMMD5, XOAuth2, OAuthBearer}, strings.ToUpper(mech))
}

// ErrNoMechanism is returned when the server offers nothing usable.
var ErrNoMechanism = errors.New("the server offers no authentication mechanism mailmon can use")

// Choose picks a mechanism from those the server advertises: want if it is
// named, otherwise the best for the credentials at hand. On a connection
// without TLS, mechanisms that keep the password off the wire come first.
func Choose(want string, advertised []string, haveToken, encrypted bool) (string, error) {
	adv := make([]string, len(advertised))
	for i, m := range advertised {
		adv[i] = strings.ToUpper(m)
	}
	if want != "" && !strings.EqualFold(want, "auto") {
		want = strings.ToUpper(want)
		if !slices.Contains(adv, want) {
			return "", fmt.Errorf("%w: %s is not among %s", ErrNoMechanism, want, strings.Join(adv, " "))
		}
		return want, nil
	}
	var order []string
	switch {
	case haveToken:
		order = []string{OAuthBearer, XOAuth2}
	case encrypted:
		order = []string{Plain, Login, CRAMMD5}
	default:
		order = []string{CRAMMD5, Plain, Login}
	}
	for _, m := range order {
		if slices.Contains(adv, m) {
			return m, nil
		}
	}
	return "", fmt.Errorf("%w (offered: %s)", ErrNoMechanism, strings.Join(adv, " "))
}

// loginClient is the obsolete but ubiquitous LOGIN mechanism: the server asks
// "Username:" then "Password:".
type loginClient struct {
	user, password string
	step           int
}

func (c *loginClient) Start() (string, []byte, error) { return Login, nil, nil }

func (c *loginClient) Next(challenge []byte) ([]byte, error) {
	c.step++
	switch c.step {
	case 1:
		return []byte(c.user), nil
	case 2:
		return []byte(c.password), nil
	}
	return nil, errors.New("LOGIN: unexpected server challenge")
}

// cramClient is CRAM-MD5 (RFC 2195): HMAC-MD5 of the server's challenge.
type cramClient struct {
	user, password string
	done           bool
}

func (c *cramClient) Start() (string, []byte, error) { return CRAMMD5, nil, nil }

func (c *cramClient) Next(challenge []byte) ([]byte, error) {
	if c.done {
		return nil, errors.New("CRAM-MD5: unexpected server challenge")
	}
	c.done = true
	m := hmac.New(md5.New, []byte(c.password))
	m.Write(challenge)
	return []byte(c.user + " " + hex.EncodeToString(m.Sum(nil))), nil
}

// xoauth2Client is Google's and Microsoft's XOAUTH2. On failure the server
// sends a JSON error as a challenge, to which the client answers empty.
type xoauth2Client struct {
	user, token string
	failed      bool
}

func (c *xoauth2Client) Start() (string, []byte, error) {
	return XOAuth2, []byte("user=" + c.user + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
}

func (c *xoauth2Client) Next(challenge []byte) ([]byte, error) {
	if c.failed {
		return nil, errors.New("XOAUTH2: unexpected server challenge")
	}
	c.failed = true
	return []byte{}, nil
}

// oauthBearerClient answers the server's error challenge with the dummy
// response RFC 7628 §3.2.3 asks for, so that the server ends the exchange
// with its own failure reply; go-sasl's client gives up instead.
type oauthBearerClient struct {
	gosasl.Client
	failed bool
}

func (c *oauthBearerClient) Next(challenge []byte) ([]byte, error) {
	if c.failed {
		return nil, errors.New("OAUTHBEARER: unexpected server challenge")
	}
	c.failed = true
	return []byte{0x01}, nil
}
