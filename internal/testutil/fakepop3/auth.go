package fakepop3

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/mailmon/mailmon/internal/testutil/saslsrv"
)

func apopDigest(timestamp, password string) string {
	sum := md5.Sum([]byte(timestamp + password))
	return hex.EncodeToString(sum[:])
}

func (s *Server) accounts() saslsrv.Accounts {
	a := saslsrv.Accounts{Passwords: map[string]string{}, Tokens: map[string]string{}}
	for _, u := range s.opts.Users {
		if u.Password != "" {
			a.Passwords[u.Name] = u.Password
		}
		if u.Token != "" {
			a.Tokens[u.Name] = u.Token
		}
	}
	return a
}

const maxAuthSteps = 10

// auth runs a SASL exchange (RFC 5034): an optional initial response on the
// AUTH line ("=" for an empty one), "+ " challenges, "*" to cancel.
func (ss *session) auth(args string) bool {
	s := ss.srv
	mech, ir, hasIR := strings.Cut(args, " ")
	mech = strings.ToUpper(mech)
	if mech == "" || !s.offers(mech) {
		return ss.send("-ERR unsupported authentication mechanism")
	}
	if s.opts.AuthNeedsTLS && !ss.tls {
		return ss.send("-ERR [AUTH] Plaintext authentication disallowed on non-secure connections")
	}
	var user string
	m, err := saslsrv.New(mech, s.accounts(), func(u string) { user = u })
	if err != nil {
		return ss.send("-ERR unsupported authentication mechanism")
	}
	if s.opts.Echo {
		e := saslsrv.Echo(m, mech)
		defer func() { ss.echo = nil }()
		ss.echo = e.Said
		m = e
	}
	var resp []byte // nil: no initial response
	if hasIR {
		if ir == "=" {
			resp = []byte{}
		} else if resp, err = base64.StdEncoding.DecodeString(ir); err != nil {
			return ss.send("-ERR invalid base64")
		}
	}
	for step := 0; step < maxAuthSteps; step++ {
		chal, done, err := m.Next(resp)
		switch {
		case err != nil:
			return ss.login("", false)
		case done:
			return ss.login(user, true)
		}
		if !ss.send(strings.TrimSpace("+ " + base64.StdEncoding.EncodeToString(chal))) {
			return false
		}
		line, ok := ss.read(true)
		if !ok {
			return false
		}
		if line == "*" {
			return ss.send("-ERR authentication cancelled")
		}
		if resp, err = base64.StdEncoding.DecodeString(line); err != nil {
			return ss.send("-ERR invalid base64")
		}
	}
	return ss.send("-ERR too many steps")
}
