package pop3server

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/mailmon/mailmon/internal/mail/pop3"
)

func (ss *session) apop(args string) bool {
	s := ss.srv
	if !s.opts.APOP {
		return ss.send("-ERR APOP is not supported")
	}
	if s.opts.AuthNeedsTLS && !ss.tls {
		return ss.send(authNeedsTLS)
	}
	name, digest, _ := strings.Cut(args, " ")
	pw, ok := s.password(name)
	return ss.login(name, ok && digest == pop3.APOPDigest(ss.timestamp, pw))
}

// maxAuthSteps bounds the challenges of one AUTH exchange.
const maxAuthSteps = 10

// auth runs a SASL exchange (RFC 5034): an optional initial response on the
// AUTH line ("=" for an empty one), "+ " challenges, "*" to cancel.
func (ss *session) auth(args string) bool {
	s := ss.srv
	mech, ir, hasIR := strings.Cut(args, " ")
	mech = strings.ToUpper(mech)
	if mech == "" || !s.offers(mech) || s.opts.NewMechanism == nil {
		return ss.send("-ERR unsupported authentication mechanism")
	}
	if s.opts.AuthNeedsTLS && !ss.tls {
		return ss.send(authNeedsTLS)
	}
	var user string
	m, err := s.opts.NewMechanism(ss.id, mech, func(u string) { user = u })
	if err != nil {
		return ss.send("-ERR unsupported authentication mechanism")
	}
	var resp []byte // nil: no initial response
	if hasIR {
		if ir == "=" {
			resp = []byte{}
		} else if resp, err = base64.StdEncoding.DecodeString(ir); err != nil {
			return ss.send("-ERR invalid base64")
		}
	}
	for range maxAuthSteps {
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

// atoi reads a message number or a line count: digits only.
func atoi(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}
