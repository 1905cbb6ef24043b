package roundtrip

import (
	"crypto/tls"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/certs"
)

// TestRoundTripCertificates: each leg's certificate is judged alike,
// whatever insecure_skip_verify says: expiring within cert_warn_days is a
// Warn (naming the SMTP leg for its certificate), expired or not yet valid
// is Down with cert_invalid in the leg's tls phase. The SMTP leg's
// certificate facts are in details.smtp.tls.
func TestRoundTripCertificates(t *testing.T) {
	type maker = func(*certs.CA, testing.TB) tls.Certificate
	expiring := func(ca *certs.CA, t testing.TB) tls.Certificate { return ca.ExpiringIn(t, 2*24*time.Hour) }
	for _, c := range []struct {
		name   string
		cert   maker
		status probe.Status
	}{
		{"expiring in 2 days", expiring, probe.StatusWarn},
		{"expired", (*certs.CA).Expired, probe.StatusDown},
		{"not yet valid", (*certs.CA).NotYetValid, probe.StatusDown},
	} {
		for _, leg := range []string{"mailbox", "smtp"} {
			for _, skip := range []bool{false, true} {
				name := c.name + "/" + leg + " leg/verify"
				if skip {
					name = c.name + "/" + leg + " leg/insecure_skip_verify"
				}
				t.Run(name, func(t *testing.T) {
					o := imapRigOpts{imapMode: probe.TLSStartTLS, smtpMode: probe.TLSStartTLS, smtpAuth: true, delay: 20 * time.Millisecond}
					phase, who := "tls", ""
					if leg == "smtp" {
						o.smtpCert, phase, who = c.cert, "smtp_tls", "SMTP leg: "
					} else {
						o.imapCert = c.cert
					}
					rig := imapFakes(t, o)
					rig.cfg.InsecureSkipVerify, rig.cfg.SMTP.InsecureSkipVerify = skip, skip
					r := rig.run()
					if r.Status != c.status {
						t.Fatalf("status %s, want %s:\n%s", r.Status, c.status, dump(r))
					}
					switch c.status {
					case probe.StatusWarn:
						warn := who + "certificate expires in 1 days ("
						if r.Error != nil || !slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.HasPrefix(w, warn) }) {
							t.Errorf("want the warning %q…:\n%s", warn, dump(r))
						}
					case probe.StatusDown:
						if r.Error == nil || r.Error.Code != probe.CertInvalid || r.Error.Phase != phase {
							t.Errorf("want cert_invalid in phase %s:\n%s", phase, dump(r))
						}
					}
					info := r.TLS
					if leg == "smtp" {
						info = r.LegTLS(probe.LegSMTP)
					}
					if info == nil || info.CertNotAfter.IsZero() || info.CertNotBefore.IsZero() || info.Verified == (skip || c.status == probe.StatusDown) {
						t.Errorf("the %s leg's certificate facts: %+v", leg, info)
					}
					noSecrets(t, r, imapBoxPass, imapSMTPPass)
				})
			}
		}
	}
}
