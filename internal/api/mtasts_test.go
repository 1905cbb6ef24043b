package api

import (
	"maps"
	"net/http"
	"net/url"
	"testing"

	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/domainprobe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/realdns"
)

// TestProbeMTASTSMonitor: stored mta-sts monitors through
// /probe?monitor=, their policies served over HTTPS by a local server
// (the engine's prober pointed at its port), the records by NSD and a
// validating unbound: probe_success and the error code's series say good,
// expired certificate (judged even when not verified) and MX not covered.
func TestProbeMTASTSMonitor(t *testing.T) {
	f := newFixture(t)
	ca := certs.NewCA(t)
	zone, port, hits := realdns.STSVariants(t, ca)
	dns := realdns.Start(t, zone)
	// The engine fetches policies from the server's port instead of 443.
	f.api.Engine = engine.New(engine.Options{Store: f.api.Store, Vault: f.api.Vault, Egress: f.api.Egress,
		Probers: func(typ string) (probe.Prober, bool) {
			if typ == domainprobe.MTASTSName {
				return domainprobe.MTASTSAt(port), true
			}
			return kinds.Prober(typ)
		}})
	// The test CA is not the system's: its certificates are not verified,
	// their dates still judged.
	got := f.probeStored(t, []storedProbe{
		{"good", map[string]any{"type": "mta-sts", "domain": "good.sts.test", "resolver": dns.Resolver, "insecure_skip_verify": true}, 1, ""},
		{"expired", map[string]any{"type": "mta-sts", "domain": "expired.sts.test", "resolver": dns.Resolver, "insecure_skip_verify": true}, 0, "cert_invalid"},
		{"uncovered", map[string]any{"type": "mta-sts", "domain": "uncovered.sts.test", "resolver": dns.Resolver, "insecure_skip_verify": true}, 0, "policy_mismatch"},
	})
	if got["good"]["probe_ssl_earliest_cert_expiry"] == 0 {
		t.Errorf("good: no certificate expiry series: %v", got["good"])
	}
	if hits.Load() < 2 {
		t.Errorf("the policy server was asked %d times", hits.Load())
	}
}

// storedProbe is a monitor stored over the API and asked of /probe: its
// settings (a name and timing added) and the probe_success and error
// code's series wanted.
type storedProbe struct {
	name     string
	settings map[string]any
	success  float64
	code     string
}

// probeStored stores each monitor on a device mail1 at 127.0.0.1, asks
// /probe?monitor=mail1/NAME and checks the series; it returns them by
// monitor.
func (f *fixture) probeStored(t *testing.T, cases []storedProbe) map[string]map[string]float64 {
	t.Helper()
	code, dev := f.do(t, "POST", "/api/v1/devices", map[string]any{"name": "mail1", "address": "127.0.0.1"}, f.token)
	if code != http.StatusCreated {
		t.Fatalf("device: %d %v", code, dev)
	}
	out := map[string]map[string]float64{}
	for _, c := range cases {
		settings := map[string]any{"name": c.name, "timing": map[string]any{"up_every": "1h"}}
		maps.Copy(settings, c.settings)
		code, m := f.do(t, "POST", "/api/v1/monitors", map[string]any{"device": dev["id"], "settings": settings}, f.token)
		if code != http.StatusCreated {
			t.Fatalf("monitor: %d %v", code, m)
		}
		_, body := f.probeGet(t, "monitor="+url.QueryEscape("mail1/"+c.name), "")
		s := series(t, body)
		if s["probe_success"] != c.success || c.code != "" && s[`mailmon_probe_error_code_info{code="`+c.code+`"}`] != 1 {
			t.Errorf("%s:\n%s", c.name, body)
		}
		out[c.name] = s
	}
	return out
}
