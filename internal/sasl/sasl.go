// Package sasl holds the SASL mechanisms mailmon's clients authenticate with
// and the choice among them. PLAIN and OAUTHBEARER come from go-sasl; LOGIN,
// CRAM-MD5 and XOAUTH2 are small enough to keep here (go-sasl is dropping
// LOGIN and XOAUTH2, and has no CRAM-MD5 client).
package sasl

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
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

// Exposure is what logging in with a mechanism shows whoever reads an
// unencrypted connection, or sits at its other end.
type Exposure int

const (
	// RevealsSecret: the password or token itself, reusable at once (PLAIN,
	// LOGIN, XOAUTH2, OAUTHBEARER, POP3 USER/PASS, the IMAP LOGIN command).
	RevealsSecret Exposure = iota
	// RevealsDigest: a keyed digest of a challenge the server chose
	// (CRAM-MD5, APOP). The password does not cross the wire, but whoever
	// chose the challenge (a man in the middle who stripped STARTTLS) can
	// try a dictionary against the digest offline.
	RevealsDigest
)

// ExposureOf says what mech exposes; a mechanism it does not know is taken
// to reveal the secret.
func ExposureOf(mech string) Exposure {
	switch strings.ToUpper(mech) {
	case CRAMMD5, "APOP":
		return RevealsDigest
	}
	return RevealsSecret
}

// Known reports whether mech is a mechanism mailmon can use.
func Known(mech string) bool {
	return slices.Contains([]string{Plain, Login, CRAMMD5, XOAuth2, OAuthBearer}, strings.ToUpper(mech))
}

// ErrNoMechanism is what every *UnsupportedError is: the server does not
// offer what the test would log in with.
var ErrNoMechanism = errors.New("the server offers no authentication mechanism mailmon can use")

// UnsupportedError reports that the mechanism asked for is not offered, or
// that nothing usable is; no credential was sent.
type UnsupportedError struct {
	Want    string   // the mechanism asked for; "" for auto
	Offered []string // what the server offers
	Why     string   // more, when the list does not say it ("the greeting has no timestamp")
}

func (e *UnsupportedError) Error() string {
	var b strings.Builder
	if e.Want != "" {
		fmt.Fprintf(&b, "the server does not offer %s", e.Want)
	} else {
		b.WriteString("the server offers no mechanism mailmon can use")
	}
	if e.Why != "" {
		b.WriteString(": " + e.Why)
	}
	offered := "none"
	if len(e.Offered) > 0 {
		offered = strings.Join(e.Offered, " ")
	}
	b.WriteString(" (offered: " + offered + ")")
	return b.String()
}

// Is makes errors.Is(err, ErrNoMechanism) hold.
func (e *UnsupportedError) Is(target error) bool { return target == ErrNoMechanism }

// Choose picks a mechanism from those the server advertises: want if it is
// named, otherwise the best for the credentials at hand. On a connection
// without TLS (where the auth policy let the test log in only because
// allow_plaintext_auth is set), a digest mechanism comes first: it keeps
// the password itself off the wire.
func Choose(want string, advertised []string, haveToken, encrypted bool) (string, error) {
	adv := make([]string, len(advertised))
	for i, m := range advertised {
		adv[i] = strings.ToUpper(m)
	}
	if want != "" && !strings.EqualFold(want, "auto") {
		want = strings.ToUpper(want)
		if !slices.Contains(adv, want) {
			return "", &UnsupportedError{Want: want, Offered: adv}
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
	if haveToken {
		return "", &UnsupportedError{Offered: adv, Why: "an OAuth token is sent with XOAUTH2 or OAUTHBEARER"}
	}
	return "", &UnsupportedError{Offered: adv}
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
	challenged
}

func (c *xoauth2Client) Start() (string, []byte, error) {
	return XOAuth2, []byte("user=" + c.user + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
}

func (c *xoauth2Client) Next(challenge []byte) ([]byte, error) {
	if c.failed {
		return nil, errors.New("XOAUTH2: unexpected server challenge")
	}
	c.failed = true
	c.keep(challenge)
	return []byte{}, nil
}

// oauthBearerClient answers the server's error challenge with the dummy
// response RFC 7628 §3.2.3 asks for, so that the server ends the exchange
// with its own failure reply; go-sasl's client gives up instead.
type oauthBearerClient struct {
	gosasl.Client
	failed bool
	challenged
}

func (c *oauthBearerClient) Next(challenge []byte) ([]byte, error) {
	if c.failed {
		return nil, errors.New("OAUTHBEARER: unexpected server challenge")
	}
	c.failed = true
	c.keep(challenge)
	return []byte{0x01}, nil
}

// Watch returns c with sent told of every response c makes, the initial
// response included, before the caller sends it: what a test sends must be
// known to its redactor before a server can echo it.
func Watch(c Client, sent func(resp []byte)) Client { return &watched{Client: c, sent: sent} }

type watched struct {
	Client
	sent func([]byte)
}

func (w *watched) Start() (string, []byte, error) {
	mech, ir, err := w.Client.Start()
	if err == nil && ir != nil {
		w.sent(ir)
	}
	return mech, ir, err
}

// OAuthFailure is the server's error challenge to an XOAUTH2 or
// OAUTHBEARER exchange, decoded, when it sent one.
func (w *watched) OAuthFailure() (OAuthChallenge, bool) { return OAuthFailure(w.Client) }

func (w *watched) Next(challenge []byte) ([]byte, error) {
	resp, err := w.Client.Next(challenge)
	if err == nil {
		w.sent(resp)
	}
	return resp, err
}

// OAuthChallenge is the error a server sends as its challenge when an
// XOAUTH2 or OAUTHBEARER login fails (RFC 7628 §3.2.2): a JSON object
// whose status is the reason ("invalid_token", or Google's and
// Microsoft's HTTP-like "401"), with the schemes and scope the server
// would accept.
type OAuthChallenge struct {
	Status              string `json:"status"`
	Schemes             string `json:"schemes"`
	Scope               string `json:"scope"`
	OpenIDConfiguration string `json:"openid-configuration"`
}

// challengeMeaning says what a status value means to a person (RFC 7628
// §3.2.2 and the HTTP-like codes Google and Microsoft send); "" when it
// does not know. A switch, not a map: nothing to build at start-up.
func challengeMeaning(status string) string {
	switch status {
	case "invalid_token":
		return "the token expired, was revoked or is not for this server"
	case "insufficient_scope":
		return "the token lacks the scope this server needs"
	case "invalid_request", "400":
		return "the server could not read the login"
	case "401":
		return "the token expired, was revoked or is not for this server or user"
	case "403":
		return "the token lacks the scope this server needs, or the mailbox does not allow the application"
	}
	return ""
}

func (c OAuthChallenge) String() string {
	var b strings.Builder
	b.WriteString("status " + c.Status)
	if m := challengeMeaning(c.Status); m != "" {
		b.WriteString(" (" + m + ")")
	}
	if c.Schemes != "" {
		b.WriteString(", schemes " + c.Schemes)
	}
	if c.Scope != "" {
		b.WriteString(", scope " + c.Scope)
	}
	return b.String()
}

// ParseOAuthChallenge decodes an error challenge; false when it is not one.
func ParseOAuthChallenge(b []byte) (OAuthChallenge, bool) {
	var c OAuthChallenge
	if len(b) > 4096 || json.Unmarshal(b, &c) != nil || c.Status == "" {
		return OAuthChallenge{}, false
	}
	return c, true
}

// OAuthFailure returns the decoded error challenge c received, if c is an
// XOAUTH2 or OAUTHBEARER client (or watches one) and got one.
func OAuthFailure(c Client) (OAuthChallenge, bool) {
	if f, ok := c.(interface{ OAuthFailure() (OAuthChallenge, bool) }); ok {
		return f.OAuthFailure()
	}
	return OAuthChallenge{}, false
}

// challenged keeps an OAuth mechanism's error challenge.
type challenged struct {
	got OAuthChallenge
	ok  bool
}

func (c *challenged) keep(challenge []byte) { c.got, c.ok = ParseOAuthChallenge(challenge) }

func (c *challenged) OAuthFailure() (OAuthChallenge, bool) { return c.got, c.ok }
