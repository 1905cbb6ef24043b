package roundtrip

import (
	"slices"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/nosecret"
)

// TestSMTPLegKeepsCredentialsWithoutTLS: the round trip's SMTP leg obeys
// the auth policy as the smtp monitor does. Its STARTTLS stripped, under
// starttls-optional it sends no AUTH, and the test fails tls_unavailable
// in its auth phase; with allow_plaintext_auth on the leg it logs in.
func TestSMTPLegKeepsCredentialsWithoutTLS(t *testing.T) {
	nosecret.EachPolicy(t, []string{"PLAIN", "CRAM-MD5"}, func(t *testing.T, auth string, allow bool) {
		rig := imapFakes(t, imapRigOpts{smtpAuth: true, smtp: fakesmtp.Options{AllowInsecureAuth: true}})
		rig.cfg.SMTP.TLS, rig.cfg.SMTP.Auth, rig.cfg.SMTP.AllowPlaintextAuth = probe.TLSOptional, auth, allow
		r := rig.run()
		authed := slices.ContainsFunc(rig.smtp.Commands(), func(c string) bool { return strings.HasPrefix(c, "AUTH ") })
		if allow {
			imapWantUp(t, r)
			if !authed {
				t.Errorf("the SMTP leg did not log in: %q", rig.smtp.Commands())
			}
			return
		}
		imapWantCode(t, r, probe.StatusDown, probe.TLSUnavailable, "smtp_auth")
		nosecret.KeptBack(t, r.Error.Detail)
		if authed || len(rig.smtp.Messages()) > 0 {
			t.Errorf("the SMTP server received %q", rig.smtp.Commands())
		}
		nosecret.Check(t, "what the SMTP server received", strings.Join(rig.smtp.Commands(), "\n"),
			nosecret.Forms(imapSender, imapSMTPPass))
	})
}
