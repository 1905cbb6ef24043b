package domainprobe

import (
	"crypto/tls"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/realdns"
)

// stsSite is one domain under sts.test: its _mta-sts record, its MX, the
// certificate its policy host presents and the policy it serves.
type stsSite struct {
	record      string // "" none
	mx          []string
	cert        func(t testing.TB, ca *certs.CA, host string) tls.Certificate
	contentType string
	policy      string
	addr        string // the policy host's address; "" 127.0.0.1
}

func goodCert(t testing.TB, ca *certs.CA, host string) tls.Certificate {
	return ca.Issue(t, certs.Leaf{Names: []string{host}})
}

// stsServer serves every site's policy, the site name.sts.test.
func stsServer(t *testing.T, ca *certs.CA, sites map[string]stsSite) (port int, hits *atomic.Int32) {
	t.Helper()
	served := map[string]realdns.PolicySite{}
	for name, s := range sites {
		domain := name + ".sts.test"
		p := realdns.PolicySite{ContentType: s.contentType, Policy: s.policy}
		if s.cert != nil {
			p.Cert = s.cert(t, ca, "mta-sts."+domain)
		}
		served[domain] = p
	}
	return realdns.PolicyServer(t, served)
}

const goodPolicy = "version: STSv1\r\nmode: enforce\r\nmx: mx1.%[1]s.sts.test\r\nmx: *.mx.%[1]s.sts.test\r\nmax_age: 604800\r\n"

// TestMTASTS fetches policies from a local HTTPS server with test-CA
// certificates, the policy hosts and MX resolved by NSD and a validating
// unbound; the prober's port 443 is pointed at the test server.
func TestMTASTS(t *testing.T) {
	ca := certs.NewCA(t)
	rec := `"v=STSv1; id=20260101T000000"`
	expiring := func(t testing.TB, ca *certs.CA, host string) tls.Certificate {
		return ca.Issue(t, certs.Leaf{Names: []string{host}, NotAfter: time.Now().Add(5*24*time.Hour + time.Hour)})
	}
	expired := func(t testing.TB, ca *certs.CA, host string) tls.Certificate {
		return ca.Issue(t, certs.Leaf{Names: []string{host}, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	}
	other := func(t testing.TB, ca *certs.CA, host string) tls.Certificate {
		return ca.Issue(t, certs.Leaf{Names: []string{"mta-sts.other.example"}})
	}
	policy := func(name string) string { return fmt.Sprintf(goodPolicy, name) }
	cases := []struct {
		name string
		site stsSite
		want want
	}{
		{"good", stsSite{rec, []string{"mx1", "a.mx"}, goodCert, "text/plain; charset=utf-8", policy("good"), ""}, want{probe.StatusUp, "", ""}},
		{"expired", stsSite{rec, []string{"mx1"}, expired, "text/plain", policy("expired"), ""}, want{probe.StatusDown, probe.CertInvalid, "expired"}},
		{"expiring", stsSite{rec, []string{"mx1"}, expiring, "text/plain", policy("expiring"), ""}, want{probe.StatusWarn, "", ""}},
		{"wrongname", stsSite{rec, []string{"mx1"}, other, "text/plain", policy("wrongname"), ""}, want{probe.StatusDown, probe.CertInvalid, "mta-sts.wrongname.sts.test"}},
		{"uncovered", stsSite{rec, []string{"mx1", "mx2", "a.b.mx"}, goodCert, "text/plain", policy("uncovered"), ""},
			want{probe.StatusDown, probe.PolicyMismatch, "The MX mx2.uncovered.sts.test, a.b.mx.uncovered.sts.test of uncovered.sts.test are not covered by any mx: pattern"}},
		{"html", stsSite{rec, []string{"mx1"}, goodCert, "text/html", policy("html"), ""}, want{probe.StatusDown, probe.RecordInvalid, `served as "text/html", not text/plain`}},
		{"testing", stsSite{rec, []string{"mx1"}, goodCert, "text/plain", strings.Replace(policy("testing"), "enforce", "testing", 1), ""},
			want{probe.StatusWarn, probe.PolicyMismatch, "is in mode testing: senders report TLS failures but deliver anyway"}},
		{"none", stsSite{rec, []string{"mx1"}, goodCert, "text/plain", strings.Replace(policy("none"), "enforce", "none", 1), ""},
			want{probe.StatusWarn, probe.PolicyMismatch, "has mode none"}},
		{"shortage", stsSite{rec, []string{"mx1"}, goodCert, "text/plain", strings.Replace(policy("shortage"), "604800", "300", 1), ""},
			want{probe.StatusWarn, probe.PolicyMismatch, "max_age 300 seconds, under a day"}},
		{"badmode", stsSite{rec, []string{"mx1"}, goodCert, "text/plain", strings.Replace(policy("badmode"), "enforce", "strict", 1), ""},
			want{probe.StatusDown, probe.RecordInvalid, `mode "strict"`}},
		{"norecord", stsSite{"", []string{"mx1"}, goodCert, "text/plain", policy("norecord"), ""}, want{probe.StatusDown, probe.RecordMissing, "_mta-sts.norecord.sts.test has no MTA-STS record"}},
		{"badid", stsSite{`"v=STSv1; id=not-valid!"`, []string{"mx1"}, goodCert, "text/plain", policy("badid"), ""}, want{probe.StatusDown, probe.RecordInvalid, "is not 1 to 32 letters and digits"}},
		{"nohost", stsSite{rec, []string{"mx1"}, goodCert, "text/plain", policy("nohost"), "none"}, want{probe.StatusDown, probe.RecordMissing, "mta-sts.nohost.sts.test does not resolve"}},
		{"big", stsSite{rec, []string{"mx1"}, goodCert, "text/plain", policy("big") + strings.Repeat("# padding\n", 7000), ""}, want{probe.StatusDown, probe.RecordInvalid, "larger than 64 KiB"}},
	}
	sites := map[string]stsSite{}
	var zone strings.Builder
	for _, c := range cases {
		s := c.site
		sites[c.name] = s
		if s.record != "" {
			fmt.Fprintf(&zone, "_mta-sts.%s TXT %s\n", c.name, s.record)
		}
		for i, mx := range s.mx {
			fmt.Fprintf(&zone, "%s MX %d %s.%s\n%s.%s A 192.0.2.%d\n", c.name, 10*(i+1), mx, c.name, mx, c.name, i+1)
		}
		switch s.addr {
		case "":
			fmt.Fprintf(&zone, "mta-sts.%s A 127.0.0.1\n", c.name)
		case "none":
		default:
			fmt.Fprintf(&zone, "mta-sts.%s A %s\n", c.name, s.addr)
		}
	}
	dns := realdns.Start(t, realdns.Zone{Name: "sts.test", Records: zone.String()})
	port, _ := stsServer(t, ca, sites)
	k := MTASTSKind()
	k.Probe = mtasts{port: port}.probe
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, k, probe.Config{Host: c.name + ".sts.test", DNSServer: dns.Resolver, RootCAs: ca.Pool()})
			check(t, c.name, r, c.want)
			switch c.name {
			case "good":
				if r.TLS == nil || !r.TLS.Verified || r.TLSMode != probe.TLSImplicit {
					t.Errorf("good: tls %+v, mode %q", r.TLS, r.TLSMode)
				}
				p, _ := r.Details["policy"].(Policy)
				if p.Mode != "enforce" || p.MaxAge != 604800 || len(p.MX) != 2 {
					t.Errorf("good: policy %+v", r.Details["policy"])
				}
			case "expiring":
				if len(r.Warnings) != 1 || !strings.HasPrefix(r.Warnings[0], "certificate expires in 5 days") {
					t.Errorf("expiring: warnings %q", r.Warnings)
				}
			}
		})
	}
}

// TestMTASTSEgress: the policy host of a target configured over the
// network is held to the egress policy when dialled: the list allows the
// resolver (127.0.0.1), not the address the policy host resolves to.
func TestMTASTSEgress(t *testing.T) {
	ca := certs.NewCA(t)
	dns := realdns.Start(t, realdns.Zone{Name: "sts.test", Records: `_mta-sts.eg TXT "v=STSv1; id=1"
eg MX 10 mx1.eg
mx1.eg A 192.0.2.1
mta-sts.eg A 127.0.0.2
`})
	port, hits := stsServer(t, ca, map[string]stsSite{"eg": {cert: goodCert, contentType: "text/plain", policy: fmt.Sprintf(goodPolicy, "eg")}})
	k := MTASTSKind()
	k.Probe = mtasts{port: port}.probe
	pol, err := egress.Parse([]string{"127.0.0.1/32"})
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, k, probe.Config{Host: "eg.sts.test", DNSServer: dns.Resolver, RootCAs: ca.Pool(), Egress: pol})
	if r.Status != probe.StatusDown || r.Error == nil || !strings.Contains(r.Error.Detail, "mta-sts.eg.sts.test (127.0.0.2) is a loopback address") {
		t.Errorf("%s %+v, want the dial refused by the egress policy", r.Status, r.Error)
	}
	if hits.Load() != 0 {
		t.Errorf("the server was reached %d times", hits.Load())
	}
}

// The TLS settings that make no sense for the policy's fetch are refused,
// naming the field.
func TestMTASTSCheck(t *testing.T) {
	for _, c := range []struct {
		cfg   probe.Config
		field string
	}{
		{probe.Config{Host: "example.test", TLS: probe.TLSStartTLS}, "tls"},
		{probe.Config{Host: "example.test", ServerName: "mx.example.test"}, "servername"},
		{probe.Config{Host: "192.0.2.1"}, "domain"},
	} {
		c.cfg.Type = MTASTSName
		err := c.cfg.Validate(MTASTSKind())
		if err == nil || !strings.Contains(err.Error(), c.field+": ") {
			t.Errorf("%+v: %v, want a complaint about %s", c.cfg, err, c.field)
		}
	}
	ok := probe.Config{Type: MTASTSName, Host: "example.test", CertWarnDays: 30}
	if err := ok.Validate(MTASTSKind()); err != nil {
		t.Errorf("a valid mta-sts monitor: %v", err)
	}
}
