package api

import (
	"net/http"
	"net/url"
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
	code, dev := f.do(t, "POST", "/api/v1/devices", map[string]any{"name": "mail1", "address": "127.0.0.1"}, f.token)
	if code != http.StatusCreated {
		t.Fatalf("device: %d %v", code, dev)
	}
	for _, c := range []struct {
		domain  string
		success float64
		code    string
	}{
		{"mx.dane.test", 1, ""},
		{"renewed.dane.test", 0, "tlsa_mismatch"},
	} {
		code, m := f.do(t, "POST", "/api/v1/monitors", map[string]any{"device": dev["id"],
			"settings": map[string]any{"name": c.domain, "type": "dane", "port": srv.Port, "domain": c.domain, "resolver": dns.Resolver,
				"timing": map[string]any{"up_every": "1h"}}}, f.token)
		if code != http.StatusCreated {
			t.Fatalf("monitor: %d %v", code, m)
		}
		_, body := f.probeGet(t, "monitor="+url.QueryEscape("mail1/"+c.domain), "")
		s := series(t, body)
		if s["probe_success"] != c.success || c.code != "" && s[`mailmon_probe_error_code_info{code="`+c.code+`"}`] != 1 {
			t.Errorf("%s:\n%s", c.domain, body)
		}
	}
}
