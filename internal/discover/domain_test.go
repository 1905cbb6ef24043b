package discover

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/realdns"
)

var domainTypes = []string{"dnsbl", "spf", "dmarc", "dkim", "tls-rpt"}

// TestProposesDomainMonitors: "discover DOMAIN" against NSD and a
// validating unbound proposes the domain's blocklist, SPF, DMARC and
// TLS-RPT monitors next to its server's, valid for apply and each Up when
// tested against the same DNS.
func TestProposesDomainMonitors(t *testing.T) {
	dns := realdns.Start(t,
		realdns.Zone{Name: "example.test", Records: `
@ MX 10 mx1
mx1 A 127.0.0.1
@ TXT "v=spf1 mx -all"
_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.test"
_smtp._tls TXT "v=TLSRPTv1; rua=mailto:tls@example.test"
`},
		realdns.Zone{Name: "bl.test", Unsigned: true, Records: "1.0.0.127 A 127.0.0.2\n"},
	)
	smtp := fakesmtp.Start(t, fakesmtp.Options{})
	res, err := NewResolver(dns.Resolver)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Ports: []Port{{"smtp", smtp.Port}}, Resolver: res, ResolverAddr: dns.Resolver, EHLOName: "monitor.example",
		InjectionWait: 200 * time.Millisecond}
	r := Run(context.Background(), "example.test", o)
	f, b := proposal(t, r, o)
	if len(f.Devices) != 1 {
		t.Fatalf("devices %+v\n%s", f.Devices, b.String())
	}
	var types []string
	for _, m := range f.Devices[0].Monitors {
		types = append(types, m.Type)
		k, _ := kinds.Lookup(m.Type)
		if !slices.Contains(domainTypes, m.Type) {
			continue // the server's monitors: discover's other tests
		}
		if m.Resolver != dns.Resolver {
			t.Errorf("%s: resolver %q, want discover's %q", m.Name, m.Resolver, dns.Resolver)
		}
		if m.Type == "dnsbl" {
			m.Zones = []string{"bl.test"} // the default zones are public lists: never asked by a test
		}
		cfg := m.ProbeConfig(f.Devices[0].Address)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		res := probe.Run(ctx, k, cfg)
		cancel()
		if m.Type == "dnsbl" {
			// mx1 is 127.0.0.1, which bl.test lists: the monitor sees it.
			if res.Status != probe.StatusDown || res.Error == nil || res.Error.Code != probe.Listed {
				t.Errorf("%s: %s %+v, want listed", m.Name, res.Status, res.Error)
			}
			continue
		}
		if res.Status != probe.StatusUp {
			t.Errorf("%s: %s %+v", m.Name, res.Status, res.Error)
		}
	}
	for _, want := range []string{"smtp", "dnsbl", "spf", "dmarc", "tls-rpt"} {
		if !slices.Contains(types, want) {
			t.Errorf("the proposal lacks a %s monitor: %v\n%s", want, types, b.String())
		}
	}
}

// proposal is WriteYAML's output, parsed and validated as apply does.
func proposal(t *testing.T, r *Report, o Options) (*config.File, *bytes.Buffer) {
	t.Helper()
	var b bytes.Buffer
	if err := WriteYAML(&b, r, o); err != nil {
		t.Fatal(err)
	}
	f, err := config.Parse("proposal.yaml", b.Bytes())
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if errs := f.Validate(); len(errs) > 0 {
		t.Fatalf("%v\n%s", errs, b.String())
	}
	return f, &b
}
