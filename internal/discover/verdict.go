package discover

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mailmon/mailmon/internal/sasl"
)

// Grade is a service's security posture, or a reason's weight.
type Grade string

// The grades, from good to bad.
const (
	GradeGood Grade = "good"
	GradeWeak Grade = "weak"
	GradeBad  Grade = "bad"
)

func (g Grade) rank() int { return slices.Index([]Grade{GradeGood, GradeWeak, GradeBad}, g) }

// Reason is one finding behind a verdict.
type Reason struct {
	Code    string `json:"code"`
	Grade   Grade  `json:"grade"`
	Message string `json:"message"`
}

// The reasons' codes: stable identifiers, as the probe's error codes are.
const (
	ReasonCertInvalid      = "cert_invalid"
	ReasonCertExpiring     = "cert_expiring"
	ReasonOldTLS           = "tls_below_1_2"
	ReasonNoTLS            = "tls_failed"
	ReasonStartTLSMissing  = "starttls_missing"
	ReasonPlaintextAuth    = "auth_without_tls"
	ReasonStartTLSInjected = "starttls_injection"
)

// Verdict is a service's security posture with its reasons, worst first.
type Verdict struct {
	Grade   Grade    `json:"grade"`
	Reasons []Reason `json:"reasons,omitempty"`
}

// Judge decides the verdict of a discovered service from its facts.
// STARTTLS is expected on every mail port that is not implicit TLS (RFC
// 3207, 2595, 8314); a certificate must verify for the host name and not
// expire within certWarnDays.
func Judge(s *Service, certWarnDays int) Verdict {
	var rs []Reason
	add := func(code string, g Grade, format string, args ...any) {
		rs = append(rs, Reason{code, g, fmt.Sprintf(format, args...)})
	}
	tlsReached := s.TLS != nil
	switch {
	case s.Implicit && !tlsReached:
		add(ReasonNoTLS, GradeBad, "no TLS handshake succeeded on an implicit TLS port")
	case !s.Implicit && !s.StartTLS:
		add(ReasonStartTLSMissing, GradeBad, "STARTTLS is not offered: everything, credentials included, crosses the network in the clear")
	case !s.Implicit && !tlsReached:
		add(ReasonNoTLS, GradeBad, "STARTTLS is advertised but TLS could not be started")
	}
	if c := s.Cert; c != nil {
		switch {
		case !c.Verified:
			add(ReasonCertInvalid, GradeBad, "the certificate does not verify for %s: %s", c.VerifiedFor, c.VerifyError)
		case c.DaysLeft < certWarnDays:
			add(ReasonCertExpiring, GradeWeak, "the certificate expires in %d days (%s)", c.DaysLeft, c.NotAfter.Format("2006-01-02"))
		}
	}
	var old []string
	for _, v := range s.TLSVersions {
		if v == "TLS1.0" || v == "TLS1.1" {
			old = append(old, v)
		}
	}
	if len(old) > 0 {
		add(ReasonOldTLS, GradeWeak, "accepts %s (deprecated by RFC 8996)", strings.Join(old, " and "))
	}
	if s.PlaintextAuthBeforeTLS {
		var clear []string
		for _, m := range s.AuthBeforeTLS {
			if revealsSecret(m) {
				clear = append(clear, m)
			}
		}
		add(ReasonPlaintextAuth, GradeBad, "offers %s before TLS: a password can cross the network in the clear", strings.Join(clear, ", "))
	}
	if s.Injection == InjectionVulnerable {
		add(ReasonStartTLSInjected, GradeBad, "STARTTLS command injection (CVE-2011-0411 class): %s", s.InjectionDetail)
	}
	v := Verdict{Grade: GradeGood, Reasons: rs}
	slices.SortStableFunc(v.Reasons, func(a, b Reason) int { return b.Grade.rank() - a.Grade.rank() })
	for _, r := range rs {
		if r.Grade.rank() > v.Grade.rank() {
			v.Grade = r.Grade
		}
	}
	return v
}

// Codes returns the codes of the verdict's reasons, in order.
func (v Verdict) Codes() []string {
	out := make([]string, len(v.Reasons))
	for i, r := range v.Reasons {
		out[i] = r.Code
	}
	return out
}

// revealsSecret grades what a server exposes, which is not the client's
// rule: mailmon's probes send no credential of any form without TLS (the
// auth policy in package probe), but a server that offers CRAM-MD5 or APOP
// before TLS does not by that put a password on the wire, and grading it
// bad would call every RFC-conforming POP3 server with APOP broken. Only
// mechanisms that carry the password or token itself (PLAIN, LOGIN, USER)
// make "auth_without_tls".
func revealsSecret(mech string) bool { return sasl.ExposureOf(mech) == sasl.RevealsSecret }
