package api

import (
	"testing"

	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/realdns"
)

// TestProbeDANEMonitor: stored dane monitors through /probe?monitor=,
// their TLSA records served signed by NSD, validated by unbound, matched
// against a STARTTLS server's key.
func TestProbeDANEMonitor(t *testing.T) {
	f := newFixture(t)
	cert := certs.NewCA(t).Issue(t, certs.Leaf{})
	srv := fakesmtp.Start(t, fakesmtp.Options{TLS: certs.ServerConfig(cert)})
	next := "3 1 1 ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01"
	dns := realdns.Start(t, realdns.Zone{Name: "dane.test", Records: realdns.TLSARecords("mx", srv.Port, realdns.TLSA311(cert.Leaf), next) +
		realdns.TLSARecords("renewed", srv.Port, next)})
	f.probeStored(t, []storedProbe{
		{"mx.dane.test", map[string]any{"type": "dane", "port": srv.Port, "domain": "mx.dane.test", "resolver": dns.Resolver}, 1, ""},
		{"renewed.dane.test", map[string]any{"type": "dane", "port": srv.Port, "domain": "renewed.dane.test", "resolver": dns.Resolver}, 0, "tlsa_mismatch"},
	})
}
