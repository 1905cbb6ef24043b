package probe

import (
	"fmt"
	"strings"

	"github.com/mailmon/mailmon/internal/sasl"
	"github.com/mailmon/mailmon/internal/wire"
)

// authRule is one row of the auth policy: what the mechanism exposes,
// whether the connection is encrypted, and allow_plaintext_auth.
type authRule struct {
	exposure       sasl.Exposure
	encrypted      bool
	allowPlaintext bool
}

// authPolicy is the one table that decides whether a test sends its
// credentials, asked by the SMTP, POP3 and IMAP probes and both legs of a
// round trip before any credential of any form (USER/PASS, APOP, AUTH or
// AUTHENTICATE with any mechanism, the IMAP LOGIN command) is sent. An
// empty reason sends them; otherwise it says why they are kept back. A
// digest is kept back too: over a connection whose STARTTLS a man in the
// middle stripped, he also picks the challenge, and the digest is an
// offline dictionary attack on the password (NO STARTTLS, USENIX Security
// 2021).
var authPolicy = [...]struct {
	rule authRule
	why  string
}{
	{authRule{sasl.RevealsSecret, true, false}, ""},
	{authRule{sasl.RevealsSecret, true, true}, ""},
	{authRule{sasl.RevealsDigest, true, false}, ""},
	{authRule{sasl.RevealsDigest, true, true}, ""},
	{authRule{sasl.RevealsSecret, false, true}, ""}, // the operator said so
	{authRule{sasl.RevealsDigest, false, true}, ""},
	{authRule{sasl.RevealsSecret, false, false}, "it would send the password or token itself, readable by anyone on the path"},
	{authRule{sasl.RevealsDigest, false, false}, "it would send a digest of the password, which whoever chose the challenge can attack offline"},
}

// policy is the auth policy's reason for rule, and whether it has one.
// A table searched, not a map: nothing to build at start-up.
func policy(rule authRule) (why string, ok bool) {
	for _, p := range authPolicy {
		if p.rule == rule {
			return p.why, true
		}
	}
	return "", false
}

// PlaintextRefusedError is the auth policy keeping the credentials back on
// a connection without TLS: tls_unavailable.
type PlaintextRefusedError struct {
	Mech     string // the mechanism that would have been used; "" if none was chosen
	Why      string // the policy's reason
	Optional bool   // the mode was starttls-optional: the server did not offer STARTTLS
}

func (e *PlaintextRefusedError) Error() string {
	var b strings.Builder
	if e.Optional {
		b.WriteString("the server did not offer STARTTLS, so the credentials were kept back")
	} else {
		b.WriteString("the connection is not encrypted, so the credentials were kept back")
	}
	if e.Mech != "" {
		fmt.Fprintf(&b, " (%s: %s)", e.Mech, e.Why)
	} else {
		fmt.Fprintf(&b, " (%s)", e.Why)
	}
	b.WriteString("; set allow_plaintext_auth to send them anyway")
	return b.String()
}

// Is makes the refusal a wire.ErrTLSUnavailable, which Classify reports as
// tls_unavailable.
func (e *PlaintextRefusedError) Is(target error) bool { return target == wire.ErrTLSUnavailable }

// PermitAuth asks the auth policy whether the credentials may be sent with
// mech (a SASL mechanism, USER, APOP, or LOGIN for IMAP's command; "" when
// none could be chosen) over a connection that is encrypted or not.
func (c *Config) PermitAuth(encrypted bool, mech string) error {
	rule := authRule{sasl.ExposureOf(mech), encrypted, c.AllowPlaintextAuth}
	why, ok := policy(rule)
	if !ok {
		why = "the auth policy has no rule for it" // unreachable: the table is complete
	}
	if ok && why == "" {
		return nil
	}
	return &PlaintextRefusedError{Mech: strings.ToUpper(mech), Why: why, Optional: c.TLS == TLSOptional}
}

// PickAuth picks how to log in (choose) and asks the auth policy
// (PermitAuth), whose refusal comes first: without TLS, no credential of
// any form is sent unless allow_plaintext_auth says so, so no mechanism,
// offered or not, would be used.
func (c *Config) PickAuth(encrypted bool, choose func() (string, error)) (string, error) {
	mech, err := choose()
	if perr := c.PermitAuth(encrypted, mech); perr != nil {
		return "", perr
	}
	return mech, err
}

// Mechanism picks the SASL mechanism for a server that advertises adv and
// asks the auth policy (PickAuth).
func Mechanism(cfg *Config, c *wire.Conn, adv []string, haveToken bool) (string, error) {
	mech, err := cfg.PickAuth(c.Encrypted(), func() (string, error) {
		return sasl.Choose(cfg.Auth, adv, haveToken, c.Encrypted())
	})
	if err != nil {
		return "", err
	}
	return strings.ToUpper(mech), nil
}
