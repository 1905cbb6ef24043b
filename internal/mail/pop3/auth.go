package pop3

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/mailmon/mailmon/internal/sasl"
	"github.com/mailmon/mailmon/internal/wire"
)

// login sends a login command and reads its answer: -ERR is judged by
// Status.AuthErr.
func (cl *Client) login(line, shown string) error {
	if err := cl.conn.WriteRedacted(line, shown); err != nil {
		return err
	}
	st, err := cl.status()
	if err != nil {
		return err
	}
	if !st.OK {
		return st.AuthErr()
	}
	return nil
}

// User sends USER.
func (cl *Client) User(name string) error {
	if err := checkArg(name); err != nil {
		return err
	}
	return cl.login("USER "+name, "USER "+name)
}

// Pass sends PASS. The password never reaches the transcript.
func (cl *Client) Pass(password string) error {
	return cl.login("PASS "+password, "PASS "+wire.Redacted)
}

// ErrNoTimestamp is returned by APOP when the greeting carried no timestamp:
// the server does not offer APOP.
var ErrNoTimestamp = errors.New("APOP: the greeting has no timestamp")

// APOP logs in with the digest of RFC 1939 §7, which keeps the password off
// the wire. The digest is redacted from the transcript too: with the
// timestamp it could be used to guess the password offline.
func (cl *Client) APOP(name, password string) error {
	if cl.timestamp == "" {
		return &wire.AuthError{Err: ErrNoTimestamp}
	}
	if err := checkArg(name); err != nil {
		return err
	}
	return cl.login("APOP "+name+" "+APOPDigest(cl.timestamp, password), "APOP "+name+" "+wire.Redacted)
}

// APOPDigest is the lower-case hex MD5 of the timestamp and the password.
func APOPDigest(timestamp, password string) string {
	sum := md5.Sum([]byte(timestamp + password))
	return hex.EncodeToString(sum[:])
}

func checkArg(name string) error {
	if name == "" || strings.ContainsAny(name, " \t\r\n") {
		return &wire.AuthError{Err: errors.New("the user name is empty or contains white space")}
	}
	return nil
}

const (
	maxAuthSteps = 8
	// maxAuthLine is the longest AUTH command with its initial response
	// (RFC 5034 §4); a longer initial response (an OAuth token, typically)
	// is sent after the server's empty challenge instead.
	maxAuthLine = 255
)

// Auth authenticates with a SASL mechanism (RFC 5034). Everything the client
// sends in the exchange is redacted from the transcript; the server's
// challenges are recorded. A -ERR is an *wire.AuthError unless its response
// code says the server, not the credentials, failed.
func (cl *Client) Auth(mech sasl.Client) error {
	name, ir, err := mech.Start()
	if err != nil {
		return &wire.AuthError{Err: err}
	}
	line, shown := "AUTH "+name, "AUTH "+name
	pending := ir // an initial response still to send, after an empty challenge
	if ir != nil {
		enc := base64.StdEncoding.EncodeToString(ir)
		if enc == "" {
			enc = "=" // a zero-length initial response (RFC 5034 §4)
		}
		if len(line)+1+len(enc) <= maxAuthLine {
			line += " " + enc
			shown += " " + wire.Redacted
			pending = nil
		}
	}
	if err := cl.conn.WriteRedacted(line, shown); err != nil {
		return err
	}
	for step := 0; ; step++ {
		raw, err := cl.conn.ReadLine()
		if err != nil {
			return err
		}
		enc, isChallenge := challenge(raw)
		if !isChallenge {
			st, err := ParseStatus(raw)
			if err != nil {
				return err
			}
			if !st.OK {
				return st.AuthErr()
			}
			return nil
		}
		if step >= maxAuthSteps {
			return wire.Violation("AUTH exchange did not end after %d challenges", maxAuthSteps)
		}
		chal, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return wire.Violation("AUTH challenge is not base64: %q", wire.Truncate(wire.Sanitize(raw), 80))
		}
		var resp []byte
		if pending != nil {
			if len(chal) != 0 {
				return wire.Violation("AUTH: expected an empty challenge before the initial response, got %q", wire.Truncate(wire.Sanitize(raw), 80))
			}
			resp, pending = pending, nil
		} else if resp, err = mech.Next(chal); err != nil {
			return cl.cancelAuth(err)
		}
		if err := cl.conn.WriteRedacted(base64.StdEncoding.EncodeToString(resp), wire.Redacted); err != nil {
			return err
		}
	}
}

// cancelAuth ends an exchange the mechanism cannot continue with "*" (RFC
// 5034 §4), to which the server answers -ERR.
func (cl *Client) cancelAuth(cause error) error {
	if err := cl.conn.WriteLine("*"); err != nil {
		return err
	}
	st, err := cl.status()
	if err != nil {
		return err
	}
	if st.OK {
		return wire.Violation("the server accepted a cancelled AUTH exchange")
	}
	return &wire.AuthError{Reply: st.String(), Err: cause}
}

// challenge recognises a continuation line: "+ " and base64, or a bare "+"
// for an empty challenge.
func challenge(line string) (string, bool) {
	if line == "+" {
		return "", true
	}
	if !strings.HasPrefix(line, "+ ") {
		return "", false
	}
	return strings.TrimSpace(line[2:]), true
}
