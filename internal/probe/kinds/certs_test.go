package kinds_test

import (
	"context"
	"crypto/tls"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakeimap"
	"github.com/mailmon/mailmon/internal/testutil/fakepop3"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
)

// server starts a fake of one protocol presenting cert, with STARTTLS or
// implicit TLS, and returns where it listens.
type server func(t *testing.T, cert *tls.Config, implicit bool) (host string, port int)

var servers = map[string]server{
	"smtp": func(t *testing.T, cert *tls.Config, implicit bool) (string, int) {
		s := fakesmtp.Start(t, fakesmtp.Options{TLS: cert, Implicit: implicit})
		return s.Host, s.Port
	},
	"pop3": func(t *testing.T, cert *tls.Config, implicit bool) (string, int) {
		s := fakepop3.Start(t, fakepop3.Options{TLS: cert, STLS: !implicit, Implicit: implicit})
		return s.Host, s.Port
	},
	"imap": func(t *testing.T, cert *tls.Config, implicit bool) (string, int) {
		s := fakeimap.Start(t, fakeimap.Options{TLSConfig: cert, Implicit: implicit})
		return s.Host, s.Port
	},
}

// TestCertificateJudgement: a certificate's dates are judged whatever
// insecure_skip_verify says (expiring within cert_warn_days: Warn; expired
// or not yet valid: Down, cert_invalid, in the tls phase); trust and name
// only by verification, a name mismatch under skip being reported as a
// fact.
func TestCertificateJudgement(t *testing.T) {
	ca := certs.NewCA(t)
	caFile := ca.File(t)
	type want struct {
		status   probe.Status
		mismatch bool // name_mismatch reported
	}
	cases := []struct {
		name         string
		cert         tls.Certificate
		verify, skip want
	}{
		{"valid", ca.Issue(t, certs.Leaf{}), want{status: probe.StatusUp}, want{status: probe.StatusUp}},
		{"expiring in 2 days", ca.ExpiringIn(t, 2*24*time.Hour), want{status: probe.StatusWarn}, want{status: probe.StatusWarn}},
		{"expired", ca.Expired(t), want{status: probe.StatusDown}, want{status: probe.StatusDown}},
		{"not yet valid", ca.NotYetValid(t), want{status: probe.StatusDown}, want{status: probe.StatusDown}},
		{"for another host", ca.OtherHost(t), want{status: probe.StatusDown, mismatch: true}, want{status: probe.StatusUp, mismatch: true}},
	}
	for _, typ := range []string{"smtp", "pop3", "imap"} {
		kind, _ := kinds.Lookup(typ)
		for _, implicit := range []bool{false, true} {
			for _, tc := range cases {
				for _, skip := range []bool{false, true} {
					mode, w := probe.TLSStartTLS, tc.verify
					if implicit {
						mode = probe.TLSImplicit
					}
					if skip {
						w = tc.skip
					}
					name := typ + "/" + string(mode) + "/" + tc.name + "/verify"
					if skip {
						name = strings.TrimSuffix(name, "verify") + "insecure_skip_verify"
					}
					t.Run(name, func(t *testing.T) {
						host, port := servers[typ](t, certs.ServerConfig(tc.cert), implicit)
						cfg := probe.Config{Type: typ, Host: host, Port: port, TLS: mode, Timeout: 5 * time.Second}
						if skip {
							cfg.InsecureSkipVerify = true
						} else {
							cfg.CAFile = caFile
						}
						r := probe.Run(context.Background(), kind, cfg)
						checkJudgement(t, r, w.status, w.mismatch, !skip && w.status != probe.StatusDown)
					})
				}
			}
		}
	}
}

func checkJudgement(t *testing.T, r *probe.Result, status probe.Status, mismatch, verified bool) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %s, want %s: error %+v, warnings %q", r.Status, status, r.Error, r.Warnings)
	}
	if r.TLS == nil || r.TLS.CertNotAfter.IsZero() || r.TLS.CertNotBefore.IsZero() || r.TLS.Verified != verified {
		t.Fatalf("certificate facts %+v (want verified %v)", r.TLS, verified)
	}
	if (r.TLS.NameMismatch != "") != mismatch || mismatch && r.TLS.NameMismatch != "127.0.0.1" {
		t.Errorf("name_mismatch %q, want one: %v", r.TLS.NameMismatch, mismatch)
	}
	switch status {
	case probe.StatusDown:
		if r.Error == nil || r.Error.Code != probe.CertInvalid || r.Error.Phase != "tls" {
			t.Errorf("error %+v, want cert_invalid in phase tls", r.Error)
		}
	case probe.StatusWarn:
		if r.Error != nil || !slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.HasPrefix(w, "certificate expires in 1 days (") }) {
			t.Errorf("error %+v, warnings %q", r.Error, r.Warnings)
		}
	case probe.StatusUp:
		if r.Error != nil || len(r.Warnings) > 0 {
			t.Errorf("error %+v, warnings %q", r.Error, r.Warnings)
		}
	}
}
