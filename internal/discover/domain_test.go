package discover

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/domainprobe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/realdns"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

func TestMain(m *testing.M) { realmail.Main(m) }

var domainTypes = []string{"dnsbl", "spf", "dmarc", "dkim", "mta-sts", "tls-rpt", "dane", "rdns"}

// blocklists are the dnsbl monitor's default zones: a test serves them
// empty, so that a proposed blocklist monitor asks NSD.
func blocklists() []string {
	var out []string
	for _, z := range domainprobe.DefaultZones() {
		out = append(out, z.Name)
	}
	return out
}

// TestProposesEveryDomainMonitor: "discover DOMAIN" against NSD and a
// validating unbound publishing every record of the harness Postfix's
// domain proposes the domain's blocklist, SPF, DMARC, DKIM, MTA-STS,
// TLS-RPT, DANE and reverse DNS monitors next to its server's, valid for
// apply and each Up when tested against the same DNS, the verdicts saying
// what was found.
func TestProposesEveryDomainMonitor(t *testing.T) {
	e := realmail.Start(t)
	dom := realdns.StartMailDomain(t, e, blocklists()...)
	pem, err := os.ReadFile(dom.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	res, err := NewResolver(dom.Resolver)
	if err != nil {
		t.Fatal(err)
	}
	probers := func(typ string) (probe.Prober, bool) {
		if typ == domainprobe.MTASTSName {
			return domainprobe.MTASTSAt(dom.PolicyPort), true
		}
		return kinds.Prober(typ)
	}
	o := Options{Ports: []Port{{"smtp", e.SMTP}}, Resolver: res, ResolverAddr: dom.Resolver, EHLOName: "monitor.example",
		RootCAs: roots, CAFile: dom.CAFile, ServerName: e.ServerName, Probers: probers, Timeout: 30 * time.Second}
	r := Run(context.Background(), dom.Domain, o)
	f, b := proposal(t, r, o)
	if len(f.Devices) != 1 || f.Devices[0].Address != dom.MX {
		t.Fatalf("devices %+v\n%s", f.Devices, b.String())
	}
	var types []string
	for _, m := range f.Devices[0].Monitors {
		types = append(types, m.Type)
		if !slices.Contains(domainTypes, m.Type) {
			continue // the server's monitors: discover's other tests
		}
		if m.Resolver != dom.Resolver {
			t.Errorf("%s: resolver %q, want discover's %q", m.Name, m.Resolver, dom.Resolver)
		}
		res := runMonitor(t, m, f.Devices[0].Address, probers)
		if res.Status != probe.StatusUp {
			t.Errorf("%s: %s %+v %q", m.Name, res.Status, res.Error, res.Warnings)
		}
		switch m.Type {
		case "dkim":
			if !slices.Equal(m.Selectors, []string{"selector1"}) {
				t.Errorf("dkim selectors %q, want the one found", m.Selectors)
			}
		case "dane", "rdns":
			if m.Port != e.SMTP {
				t.Errorf("%s: port %d, want the SMTP port discovered (%d)", m.Name, m.Port, e.SMTP)
			}
		case "mta-sts":
			if m.CA != dom.CAFile {
				t.Errorf("mta-sts: ca %q, want discover's --ca", m.CA)
			}
		}
	}
	for _, want := range append([]string{"smtp"}, domainTypes...) {
		if !slices.Contains(types, want) {
			t.Errorf("the proposal lacks a %s monitor: %v\n%s", want, types, b.String())
		}
	}
	for _, want := range []string{
		"good mta-sts MTA-STS published, mode enforce",
		"good tls-rpt TLS-RPT published",
		"good dkim DKIM key(s) found for selector(s) selector1",
		"good dane DANE: TLSA for mail.example.test authenticated (2 record(s)): they match the certificate it presents",
		"good rdns reverse DNS of mail.example.test: PTR mail.example.test, forward-confirmed: the SMTP greeting agrees",
	} {
		if !strings.Contains(b.String(), "# "+want+"\n") {
			t.Errorf("the proposal's verdicts lack %q:\n%s", want, b.String())
		}
	}
	var table bytes.Buffer
	if err := WriteTable(&table, r, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "example.test: the domain's records\n  good mta-sts MTA-STS published, mode enforce\n") {
		t.Errorf("the table lacks the domain's records:\n%s", table.String())
	}
}

// runMonitor tests a proposed monitor once as the daemon would, the
// policy host's port given by probers.
func runMonitor(t *testing.T, m config.Monitor, address string, probers func(string) (probe.Prober, bool)) *probe.Result {
	t.Helper()
	k, _ := kinds.Lookup(m.Type)
	k.Probe, _ = probers(m.Type)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return probe.Run(ctx, k, m.ProbeConfig(address))
}

// TestProposesOnlyWhatIsPublished: a domain with MX, SPF and DMARC only,
// and TLSA records in an unsigned zone: no MTA-STS, TLS-RPT, DKIM or DANE
// monitor, each verdict saying why (DKIM needing the selector, the TLSA
// answer not authenticated).
func TestProposesOnlyWhatIsPublished(t *testing.T) {
	smtp := fakesmtp.Start(t, fakesmtp.Options{})
	dns := realdns.Start(t,
		realdns.Zone{Name: "example.test", Records: `
@ MX 10 mx1
mx1 A 127.0.0.1
@ TXT "v=spf1 mx -all"
_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.test"
`},
		realdns.Zone{Name: "plain.test", Unsigned: true, Records: fmt.Sprintf(`
@ MX 10 mx1
mx1 A 127.0.0.1
_%d._tcp.mx1 TLSA 3 1 1 0000000000000000000000000000000000000000000000000000000000000000
`, smtp.Port)},
	)
	res, err := NewResolver(dns.Resolver)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		domain string
		want   []string // verdict lines
	}{
		{"example.test", []string{
			"# -    mta-sts MTA-STS not published (no _mta-sts.example.test record)",
			"# -    tls-rpt TLS-RPT not published (no _smtp._tls.example.test record)",
			"# -    dkim DKIM needs the selector: no key under the common selectors (default, selector1, selector2, google, k1, s1, s2, dkim, mail), so no dkim monitor is proposed",
			fmt.Sprintf("# -    dane DANE not in use for mx1.example.test (no TLSA records at _%d._tcp.mx1.example.test)", smtp.Port),
		}},
		{"plain.test", []string{
			"# -    dane DANE: mx1.plain.test has TLSA records, but the answer is not authenticated (the zone is unsigned, or the resolver does not validate DNSSEC), so senders ignore them and no dane monitor is proposed",
		}},
	} {
		t.Run(c.domain, func(t *testing.T) {
			o := Options{Ports: []Port{{"smtp", smtp.Port}}, Resolver: res, ResolverAddr: dns.Resolver, EHLOName: "monitor.example",
				InjectionWait: 200 * time.Millisecond}
			r := Run(context.Background(), c.domain, o)
			f, b := proposal(t, r, o)
			if len(f.Devices) != 1 {
				t.Fatalf("devices %+v\n%s", f.Devices, b.String())
			}
			var types []string
			for _, m := range f.Devices[0].Monitors {
				types = append(types, m.Type)
			}
			for _, not := range []string{"mta-sts", "tls-rpt", "dkim", "dane"} {
				if slices.Contains(types, not) {
					t.Errorf("a %s monitor is proposed for what is not published: %v\n%s", not, types, b.String())
				}
			}
			for _, want := range []string{"dnsbl", "spf", "dmarc", "rdns"} {
				if !slices.Contains(types, want) {
					t.Errorf("the proposal lacks a %s monitor: %v\n%s", want, types, b.String())
				}
			}
			for _, w := range c.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("the verdicts lack %q:\n%s", w, b.String())
				}
			}
		})
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
