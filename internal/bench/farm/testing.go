package farm

import (
	"crypto/tls"
	"testing"

	"github.com/mailmon/mailmon/internal/testutil/certs"
)

// StartSMTP starts an SMTP responder for a test or benchmark, closed when
// it ends: with STARTTLS and a certificate of ca (for 127.0.0.1, ::1 and
// localhost) when ca is not nil, plain otherwise.
func StartSMTP(tb testing.TB, ca *certs.CA) *Server {
	tb.Helper()
	mode, cfg := NoTLS, (*tls.Config)(nil)
	if ca != nil {
		mode, cfg = StartTLS, certs.ServerConfig(ca.Issue(tb, certs.Leaf{}))
	}
	s, err := Start(SMTP, mode, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}
