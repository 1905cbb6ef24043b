// Package saslsrv holds the server side of the SASL mechanisms mailmon's
// clients use, for the fake servers of the tests: PLAIN and OAUTHBEARER from
// go-sasl, LOGIN, CRAM-MD5 and XOAUTH2 here.
package saslsrv

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

// ErrInvalid is returned for wrong credentials.
var ErrInvalid = errors.New("invalid credentials")

// Accounts are the users a fake server knows.
type Accounts struct {
	Passwords map[string]string // user → password
	Tokens    map[string]string // user → OAuth bearer token
}

// Secrets lists every password and token, for a fake that echoes them.
func (a Accounts) Secrets() []string {
	var out []string
	for _, m := range []map[string]string{a.Passwords, a.Tokens} {
		for _, v := range m {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// Mechanisms lists what New can serve.
func Mechanisms() []string {
	return []string{"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER"}
}

// New returns the server side of mech; ok is called with the user once
// authentication succeeds.
func New(mech string, a Accounts, ok func(user string)) (gosasl.Server, error) {
	checkPw := func(user, pw string) error {
		if want, found := a.Passwords[user]; found && want == pw {
			ok(user)
			return nil
		}
		return ErrInvalid
	}
	checkTok := func(user, tok string) bool {
		if want, found := a.Tokens[user]; found && want == tok {
			ok(user)
			return true
		}
		return false
	}
	switch strings.ToUpper(mech) {
	case "PLAIN":
		return gosasl.NewPlainServer(func(identity, user, pw string) error {
			if identity != "" && identity != user {
				return ErrInvalid
			}
			return checkPw(user, pw)
		}), nil
	case "LOGIN":
		return &login{check: checkPw}, nil
	case "CRAM-MD5":
		return &cram{a: a, ok: ok, challenge: "<1896.697170952@fake.example>"}, nil
	case "XOAUTH2":
		return &xoauth2{check: checkTok}, nil
	case "OAUTHBEARER":
		return oauthBearer{gosasl.NewOAuthBearerServer(func(o gosasl.OAuthBearerOptions) *gosasl.OAuthBearerError {
			if checkTok(o.Username, o.Token) {
				return nil
			}
			return &gosasl.OAuthBearerError{Status: "invalid_token", Schemes: "bearer"}
		})}, nil
	}
	return nil, fmt.Errorf("unsupported mechanism %s", mech)
}

type login struct {
	check func(user, pw string) error
	user  string
	step  int
}

func (l *login) Next(resp []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		if resp != nil { // an initial response carries the user name
			l.user = string(resp)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(resp)
		return []byte("Password:"), false, nil
	case 3:
		return nil, true, l.check(l.user, string(resp))
	}
	return nil, true, ErrInvalid
}

type cram struct {
	a         Accounts
	ok        func(string)
	challenge string
	sent      bool
}

func (c *cram) Next(resp []byte) ([]byte, bool, error) {
	if !c.sent {
		c.sent = true
		return []byte(c.challenge), false, nil
	}
	user, digest, _ := strings.Cut(string(resp), " ")
	pw, found := c.a.Passwords[user]
	if !found {
		return nil, true, ErrInvalid
	}
	m := hmac.New(md5.New, []byte(pw))
	m.Write([]byte(c.challenge))
	if !hmac.Equal([]byte(hex.EncodeToString(m.Sum(nil))), []byte(digest)) {
		return nil, true, ErrInvalid
	}
	c.ok(user)
	return nil, true, nil
}

type xoauth2 struct {
	check  func(user, tok string) bool
	failed bool
}

func (x *xoauth2) Next(resp []byte) ([]byte, bool, error) {
	if x.failed {
		return nil, true, ErrInvalid
	}
	if resp == nil {
		return []byte{}, false, nil
	}
	var user, tok string
	for _, kv := range strings.Split(string(resp), "\x01") {
		switch {
		case strings.HasPrefix(kv, "user="):
			user = kv[5:]
		case strings.HasPrefix(kv, "auth=Bearer "):
			tok = kv[12:]
		}
	}
	if x.check(user, tok) {
		return nil, true, nil
	}
	x.failed = true
	return []byte(`{"status":"401","schemes":"bearer","scope":"https://mail.example/"}`), false, nil
}

// oauthBearer guards go-sasl's server, which indexes an empty response.
type oauthBearer struct{ gosasl.Server }

func (o oauthBearer) Next(resp []byte) ([]byte, bool, error) {
	if resp != nil && len(resp) == 0 {
		return nil, true, ErrInvalid
	}
	return o.Server.Next(resp)
}
