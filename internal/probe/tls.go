package probe

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/wire"
)

// CertError is a certificate that failed verification.
type CertError struct {
	Err error
}

func (e *CertError) Error() string { return "certificate: " + e.Err.Error() }
func (e *CertError) Unwrap() error { return e.Err }

// TLSInfo is what a person wants to know about a TLS session.
type TLSInfo struct {
	Version       string    `json:"version"`
	Cipher        string    `json:"cipher"`
	CertSubject   string    `json:"cert_subject,omitempty"`
	CertIssuer    string    `json:"cert_issuer,omitempty"`
	CertNotBefore time.Time `json:"cert_not_before,omitzero"`
	CertNotAfter  time.Time `json:"cert_not_after,omitzero"`
	DaysLeft      int       `json:"days_left"`
	CertNames     []string  `json:"cert_names,omitempty"`
	// NameMismatch is the name the certificate was checked for when it is
	// not among the certificate's names; with insecure_skip_verify that is
	// reported here rather than failing the test.
	NameMismatch string `json:"name_mismatch,omitempty"`
	Verified     bool   `json:"verified"` // the chain and the name verified
}

// tlsConfig builds the client TLS configuration. Go's own verification is
// replaced by the same checks done in VerifyConnection, so that the facts of
// a certificate are recorded even when it is rejected (an expired
// certificate's expiry date is the first thing a person asks for).
func (c *Config) tlsConfig(t *Trace) (*tls.Config, error) { return c.tlsConfigWith(t, &verifiedChains) }

// tlsConfigWith is tlsConfig remembering verified chains in cc.
func (c *Config) tlsConfigWith(t *Trace, cc *chainCache) (*tls.Config, error) {
	roots := c.RootCAs
	if c.CAFile != "" && roots == nil {
		var err error
		if roots, err = wire.CAPool(c.CAFile); err != nil {
			return nil, &ConfigError{Errs: []FieldError{{"ca", err.Error()}}}
		}
	}
	name := c.ServerName
	if name == "" {
		name = c.Host
	}
	skip := c.InsecureSkipVerify
	checked := tlsCert{name: name, warnDays: c.CertWarnDays}
	return &tls.Config{
		ServerName:         name,
		CurvePreferences:   curves(c.KeyExchange),
		InsecureSkipVerify: true, // verified below, always, unless the config says skip
		VerifyConnection: func(cs tls.ConnectionState) error {
			t.setCert(cs, checked)
			if skip {
				// Trust and name are not judged; a mismatch is a fact
				// (TLSInfo.NameMismatch), noted here too. The dates are
				// judged all the same (judgeCert).
				if len(cs.PeerCertificates) > 0 && cs.PeerCertificates[0].VerifyHostname(name) != nil {
					t.Transcript.Note("the certificate is not for " + name + " (not verified: insecure_skip_verify)")
				}
				return nil
			}
			if len(cs.PeerCertificates) == 0 {
				return &CertError{Err: fmt.Errorf("the server sent no certificate")}
			}
			facts, err := cc.verify(cs.PeerCertificates, roots, name, t.now())
			if err != nil {
				return &CertError{Err: err}
			}
			verified := checked
			verified.verified, verified.facts = true, facts
			t.setCert(cs, verified)
			return nil
		},
	}, nil
}

func tlsInfo(cs *tls.ConnectionState, certs tlsCert, now time.Time) *TLSInfo {
	info := &TLSInfo{}
	if cs != nil {
		info.Version = wire.VersionName(cs.Version)
		info.Cipher = wire.CipherSuiteName(cs.CipherSuite)
	}
	if leaf := certs.leaf; leaf != nil {
		facts := certs.facts
		if facts == nil {
			facts = newCertFacts(leaf)
		}
		info.CertSubject, info.CertIssuer, info.CertNames = facts.subject, facts.issuer, facts.names
		info.CertNotBefore = leaf.NotBefore.UTC()
		info.CertNotAfter = leaf.NotAfter.UTC()
		info.DaysLeft = DaysLeft(leaf.NotAfter, now)
		// A verified certificate is for the name (x509 checked it).
		if certs.name != "" && !certs.verified && leaf.VerifyHostname(certs.name) != nil {
			info.NameMismatch = wire.Sanitize(certs.name)
		}
		info.Verified = certs.verified
	}
	return info
}

// DaysLeft counts whole days from now to t; past t the count is negative
// (-1 on the day after).
func DaysLeft(t, now time.Time) int {
	d := t.Sub(now)
	if d < 0 {
		return int(d.Hours()/24) - 1
	}
	return int(d.Hours() / 24)
}

// judgeCert judges a certificate's dates, apart from verification: expired
// or not yet valid fails the test (cert_invalid), expiring within warnDays
// (cert_warn_days; -1 never) is a warning. These are facts of the
// certificate itself, so insecure_skip_verify, which skips judging trust and
// name, does not skip them.
func judgeCert(info *TLSInfo, warnDays int, now time.Time) (bad error, warning string) {
	if info == nil || info.CertNotAfter.IsZero() {
		return nil, ""
	}
	const stamp = "2006-01-02 15:04 MST"
	switch {
	case now.After(info.CertNotAfter):
		return &CertError{Err: fmt.Errorf("expired on %s", info.CertNotAfter.Format(stamp))}, ""
	case now.Before(info.CertNotBefore):
		return &CertError{Err: fmt.Errorf("not valid before %s", info.CertNotBefore.Format(stamp))}, ""
	case info.DaysLeft < warnDays:
		return nil, fmt.Sprintf("certificate expires in %d days (%s)", info.DaysLeft, info.CertNotAfter.Format("2006-01-02"))
	}
	return nil, ""
}

// judgeCerts judges the certificate of the test and those of its legs (the
// round trip's SMTP leg) with judgeCert; info is the test's own, as
// reported. A bad certificate ends the test with cert_invalid in its TLS
// phase, as verification would have at the handshake, whatever failed
// after it; it returns that error (else err) and the warnings. The caller
// holds t.mu.
func (t *Trace) judgeCerts(info *TLSInfo, err error, now time.Time) ([]string, error) {
	type cert struct {
		phase, who string
		info       *TLSInfo
		warnDays   int
	}
	all := []cert{{t.prefix + "tls", "", info, t.cert.warnDays}}
	for _, l := range t.legs {
		l.mu.Lock()
		if l.cert.leaf != nil {
			all = append(all, cert{l.prefix + "tls", strings.ToUpper(strings.TrimSuffix(l.prefix, "_")) + " leg: ",
				tlsInfo(l.tlsState, l.cert, now), l.cert.warnDays})
		}
		l.mu.Unlock()
	}
	var warnings []string
	for _, c := range all {
		bad, warn := judgeCert(c.info, c.warnDays, now)
		if warn != "" {
			warnings = append(warnings, c.who+warn)
		}
		if bad != nil && Classify(err) != CertInvalid {
			err = &StepError{Phase: c.phase, Code: CertInvalid, Err: bad}
		}
	}
	return warnings, err
}

// TLSConfigFor is the client TLS configuration of a test that connects to
// a host of its own choosing (the MTA-STS policy host of a domain): the
// certificate is verified for name and judged like every test's (cert_invalid,
// the expiry warning of cert_warn_days) once the test ends.
func (c *Config) TLSConfigFor(t *Trace, name string) (*tls.Config, error) {
	cc := *c
	cc.ServerName = name
	return cc.tlsConfig(t)
}
