package roundtrip

import (
	"testing"

	"github.com/mailmon/mailmon/internal/probe"
)

func TestRoundTripLegInheritsCertWarnDays(t *testing.T) {
	for _, tc := range []struct{ monitor, leg, want int }{{30, 0, 30}, {0, 0, probe.DefaultCertWarnDays}, {-1, 0, -1}, {30, 7, 7}} {
		c := probe.Config{Type: "imap-roundtrip", Host: "mail.example", User: "u", Password: "p", AllowPlaintextAuth: true,
			From: "a@example.org", To: "b@example.org", InstallationKey: make([]byte, 32), CertWarnDays: tc.monitor,
			SMTP: &probe.Config{CertWarnDays: tc.leg}}
		if err := c.Validate(IMAPKind()); err != nil {
			t.Fatal(err)
		}
		if c.SMTP.CertWarnDays != tc.want {
			t.Errorf("monitor %d, leg %d: the leg warns within %d days, want %d", tc.monitor, tc.leg, c.SMTP.CertWarnDays, tc.want)
		}
	}
}
