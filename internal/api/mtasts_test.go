package api

import (
	"maps"
	"net/http"
	"net/url"
	"strings"
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
	f.api.Engine = stsEngine(f, port, "")
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

// stsEngine replaces the fixture's engine by one that fetches MTA-STS
// policies from port instead of 443, its domain tests asking resolver
// (serve --resolver).
func stsEngine(f *fixture, port int, resolver string) *engine.Engine {
	return engine.New(engine.Options{Store: f.api.Store, Vault: f.api.Vault, Egress: f.api.Egress, DNSServer: resolver,
		Probers: func(typ string) (probe.Prober, bool) {
			if typ == domainprobe.MTASTSName {
				return domainprobe.MTASTSAt(port), true
			}
			return kinds.Prober(typ)
		}})
}

// TestProbeAdHocMTASTS: /probe?type=mta-sts&target=DOMAIN tests a domain
// from the query alone, through serve's resolver (the engine's), with the
// series of the good, expired-certificate and uncovered-MX policies; a
// port in the target is refused, naming it.
func TestProbeAdHocMTASTS(t *testing.T) {
	f := newFixture(t)
	zone, port, _ := realdns.STSVariants(t, certs.NewCA(t))
	dns := realdns.Start(t, zone)
	f.api.Engine = stsEngine(f, port, dns.Resolver)
	for _, c := range []struct {
		domain  string
		success float64
		code    string
	}{
		{"good.sts.test", 1, ""},
		{"expired.sts.test", 0, "cert_invalid"},
		{"uncovered.sts.test", 0, "policy_mismatch"},
	} {
		status, body := f.probeGet(t, "type=mta-sts&insecure_skip_verify=true&target="+c.domain, "")
		if status != http.StatusOK {
			t.Fatalf("%s: %d %s", c.domain, status, body)
		}
		s := series(t, body)
		if s["probe_success"] != c.success || c.code != "" && s[`mailmon_probe_error_code_info{code="`+c.code+`"}`] != 1 {
			t.Errorf("%s:\n%s", c.domain, body)
		}
	}
	status, body := f.probeGet(t, "type=mta-sts&target=good.sts.test:443", "")
	if status != http.StatusBadRequest || !strings.Contains(body, "mta-sts has no port") {
		t.Errorf("a port: %d %s", status, body)
	}
}
