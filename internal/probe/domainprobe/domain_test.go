package domainprobe

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/realdns"
)

// txt writes a TXT value in strings of at most 255 bytes.
func txt(s string) string {
	var parts []string
	for len(s) > 200 {
		parts = append(parts, `"`+s[:200]+`"`)
		s = s[200:]
	}
	return strings.Join(append(parts, `"`+s+`"`), " ")
}

func rsaKey(t *testing.T, bits int) string {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	return base64.StdEncoding.EncodeToString(der)
}

// The zones of every test: good and broken variants of each record, a
// blocklist and a domain list.
func testZones(t *testing.T) []realdns.Zone {
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	var many strings.Builder
	var manyTerms []string
	for i := 1; i <= 11; i++ {
		fmt.Fprintf(&many, "a%d.many A 192.0.2.%d\n", i, i)
		manyTerms = append(manyTerms, fmt.Sprintf("a:a%d.many.example.test", i))
	}
	example := realdns.Zone{Name: "example.test", Records: `
mx1 A 192.0.2.2
good TXT "v=spf1 ip4:192.0.2.0/24 include:inc.example.test -all"
inc TXT "v=spf1 ip6:2001:db8::/32 -all"
two TXT "v=spf1 -all"
two TXT "v=spf1 ~all"
plusall TXT "v=spf1 +all"
qall TXT "v=spf1 ip4:192.0.2.1 ?all"
many TXT ` + txt("v=spf1 "+strings.Join(manyTerms, " ")+" -all") + `
` + many.String() + `
void TXT "v=spf1 a:v1.example.test a:v2.example.test a:v3.example.test -all"
syntax TXT "v=spf1 ip4:999.1.1.1 -all"
bogus TXT "v=spf1 -all"
_dmarc.good TXT "v=DMARC1; p=reject; rua=mailto:d@good.example.test,mailto:r@ext.example.test"
good.example.test._report._dmarc.ext TXT "v=DMARC1"
_dmarc.none TXT "v=DMARC1; p=none"
_dmarc.noauth TXT "v=DMARC1; p=quarantine; rua=mailto:r@elsewhere.example.test"
_dmarc.syntax TXT "v=DMARC1; p=maybe"
_dmarc.pct TXT "v=DMARC1; p=reject; pct=20"
s2048._domainkey.good TXT ` + txt("v=DKIM1; k=rsa; p="+rsaKey(t, 2048)) + `
s1024._domainkey.good TXT ` + txt("v=DKIM1; p="+rsaKey(t, 1024)) + `
ed._domainkey.good TXT ` + txt("v=DKIM1; k=ed25519; p="+base64.StdEncoding.EncodeToString(edPub)) + `
revoked._domainkey.good TXT "v=DKIM1; p="
_smtp._tls.good TXT "v=TLSRPTv1; rua=mailto:tls@good.example.test,https://r.example.test/tls"
_smtp._tls.syntax TXT "v=TLSRPTv1; rua=ftp://r.example.test"
`, Tamper: [][2]string{{`bogus.example.test.	60	IN	TXT	"v=spf1 -all"`, `bogus.example.test.	60	IN	TXT	"v=spf1 +all"`}}}
	bl := realdns.Zone{Name: "bl.test", Unsigned: true, Records: `
2.2.0.192 A 127.0.0.2
2.2.0.192 TXT "seen sending spam"
3.2.0.192 A 127.255.255.254
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2 A 127.0.0.4
`}
	dbl := realdns.Zone{Name: "dbl.test", Unsigned: true, Records: "mx1.example.test A 127.0.1.2\n"}
	return []realdns.Zone{example, bl, dbl}
}

func run(t *testing.T, k probe.Kind, cfg probe.Config) *probe.Result {
	t.Helper()
	cfg.Type = k.Name
	ctx, cancel := context.WithTimeout(context.Background(), 2*cfgTimeout)
	defer cancel()
	if cfg.Timeout == 0 {
		cfg.Timeout = cfgTimeout
	}
	return probe.Run(ctx, k, cfg)
}

const cfgTimeout = 20 * time.Second

type want struct {
	status probe.Status
	code   probe.Code
	says   string // a part of the finding's sentence
}

func check(t *testing.T, name string, r *probe.Result, w want) {
	t.Helper()
	code := probe.Code("")
	detail := ""
	if r.Error != nil {
		code, detail = r.Error.Code, r.Error.Detail
	}
	if r.Status != w.status || code != w.code || !strings.Contains(detail, w.says) {
		t.Errorf("%s: %s %s %q, want %s %s saying %q", name, r.Status, code, detail, w.status, w.code, w.says)
	}
}

// TestAgainstRealDNS runs every domain type against NSD and a validating
// unbound holding good and broken variants of each record.
func TestAgainstRealDNS(t *testing.T) {
	res := realdns.Start(t, testZones(t)...).Resolver
	cases := []struct {
		name string
		k    probe.Kind
		cfg  probe.Config
		want want
	}{
		{"dnsbl clean address", DNSBLKind(), probe.Config{Host: "192.0.2.1", Zones: []string{"bl.test"}}, want{probe.StatusUp, "", ""}},
		{"dnsbl listed address", DNSBLKind(), probe.Config{Host: "192.0.2.2", Zones: []string{"bl.test"}}, want{probe.StatusDown, probe.Listed, "192.0.2.2 is listed on bl.test (127.0.0.2: listed); the list says: seen sending spam"}},
		{"dnsbl listed v6 nibbles", DNSBLKind(), probe.Config{Host: "2001:db8::1", Zones: []string{"bl.test"}}, want{probe.StatusDown, probe.Listed, "2001:db8::1 is listed on bl.test"}},
		{"dnsbl refusal is no listing", DNSBLKind(), probe.Config{Host: "192.0.2.3", Zones: []string{"bl.test"}}, want{probe.StatusWarn, probe.LookupRefused, "use a resolver of your own"}},
		{"dnsbl host's addresses", DNSBLKind(), probe.Config{Host: "mx1.example.test", Zones: []string{"bl.test"}}, want{probe.StatusDown, probe.Listed, "192.0.2.2 is listed"}},
		{"dnsbl domain list", DNSBLKind(), probe.Config{Host: "mx1.example.test", Zones: []string{"domain:dbl.test"}}, want{probe.StatusDown, probe.Listed, "mx1.example.test is listed on dbl.test"}},
		{"dnsbl domain list clean", DNSBLKind(), probe.Config{Host: "good.example.test", Zones: []string{"domain:dbl.test"}}, want{probe.StatusUp, "", ""}},

		{"spf good, senders covered", SPFKind(), probe.Config{Host: "good.example.test", IPs: []string{"192.0.2.10", "2001:db8::5"}}, want{probe.StatusUp, "", ""}},
		{"spf sender not covered", SPFKind(), probe.Config{Host: "good.example.test", IPs: []string{"198.51.100.1"}}, want{probe.StatusDown, probe.PolicyMismatch, "does not authorise the sending address 198.51.100.1 (result fail)"}},
		{"spf missing", SPFKind(), probe.Config{Host: "nothing.example.test"}, want{probe.StatusDown, probe.RecordMissing, "has no SPF record"}},
		{"spf two records", SPFKind(), probe.Config{Host: "two.example.test"}, want{probe.StatusDown, probe.RecordInvalid, "has 2 SPF records"}},
		{"spf +all", SPFKind(), probe.Config{Host: "plusall.example.test"}, want{probe.StatusDown, probe.RecordInvalid, "+all"}},
		{"spf ?all", SPFKind(), probe.Config{Host: "qall.example.test"}, want{probe.StatusWarn, probe.RecordInvalid, "?all"}},
		{"spf over 10 lookups", SPFKind(), probe.Config{Host: "many.example.test"}, want{probe.StatusDown, probe.RecordInvalid, "more than 10 DNS lookups"}},
		{"spf void lookups", SPFKind(), probe.Config{Host: "void.example.test"}, want{probe.StatusDown, probe.RecordInvalid, "than 2 lookups of the SPF record find nothing"}},
		{"spf syntax", SPFKind(), probe.Config{Host: "syntax.example.test"}, want{probe.StatusDown, probe.RecordInvalid, "ip4:999.1.1.1"}},
		{"spf bogus signature", SPFKind(), probe.Config{Host: "bogus.example.test"}, want{probe.StatusDown, probe.DNSSECInvalid, "do not validate"}},

		{"dmarc good, external rua authorised", DMARCKind(), probe.Config{Host: "good.example.test"}, want{probe.StatusUp, "", ""}},
		{"dmarc p=none", DMARCKind(), probe.Config{Host: "none.example.test"}, want{probe.StatusWarn, probe.PolicyMismatch, "p=none"}},
		{"dmarc rua not authorised", DMARCKind(), probe.Config{Host: "noauth.example.test"}, want{probe.StatusWarn, probe.PolicyMismatch, "has not authorised it"}},
		{"dmarc bad policy", DMARCKind(), probe.Config{Host: "syntax.example.test"}, want{probe.StatusDown, probe.RecordInvalid, `"maybe"`}},
		{"dmarc pct", DMARCKind(), probe.Config{Host: "pct.example.test"}, want{probe.StatusWarn, probe.PolicyMismatch, "pct=20"}},
		{"dmarc missing", DMARCKind(), probe.Config{Host: "two.example.test"}, want{probe.StatusDown, probe.RecordMissing, "no DMARC record"}},

		{"dkim 2048 and ed25519", DKIMKind(), probe.Config{Host: "good.example.test", Selectors: []string{"s2048", "ed"}}, want{probe.StatusUp, "", ""}},
		{"dkim 1024 warns", DKIMKind(), probe.Config{Host: "good.example.test", Selectors: []string{"s1024"}}, want{probe.StatusWarn, probe.RecordInvalid, "1024 bits"}},
		{"dkim revoked", DKIMKind(), probe.Config{Host: "good.example.test", Selectors: []string{"s2048", "revoked"}}, want{probe.StatusDown, probe.RecordInvalid, "revoked"}},
		{"dkim missing", DKIMKind(), probe.Config{Host: "good.example.test", Selectors: []string{"gone"}}, want{probe.StatusDown, probe.RecordMissing, "selector gone"}},

		{"tls-rpt good", TLSRPTKind(), probe.Config{Host: "good.example.test"}, want{probe.StatusUp, "", ""}},
		{"tls-rpt bad scheme", TLSRPTKind(), probe.Config{Host: "syntax.example.test"}, want{probe.StatusDown, probe.RecordInvalid, "ftp://"}},
		{"tls-rpt missing", TLSRPTKind(), probe.Config{Host: "none.example.test"}, want{probe.StatusDown, probe.RecordMissing, "no TLS-RPT record"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.DNSServer = res
			check(t, c.name, run(t, c.k, c.cfg), c.want)
		})
	}
}

// No resolver in a test is a configuration error, never the system's.
func TestNoResolverIsAnError(t *testing.T) {
	for _, k := range []probe.Kind{DNSBLKind(), SPFKind(), DMARCKind(), DKIMKind(), TLSRPTKind()} {
		r := run(t, k, probe.Config{Host: "example.test", Selectors: []string{"s"}})
		if r.Status != probe.StatusDown || r.Error == nil || r.Error.Code != probe.ConfigMissing || !strings.Contains(r.Error.Detail, "resolver") {
			t.Errorf("%s without a resolver: %+v, want config_missing naming the resolver", k.Name, r.Error)
		}
	}
}

func TestDQSKeyMovesSpamhausZones(t *testing.T) {
	byName := map[string]Zone{}
	for _, z := range zones([]string{"zen.spamhaus.org", "domain:dbl.spamhaus.org", "bl.example.test"}) {
		byName[z.Name] = z
	}
	for _, c := range []struct{ zone, key, want string }{
		{"zen.spamhaus.org", "", "2.0.0.127.zen.spamhaus.org"},
		{"zen.spamhaus.org", "abc123", "2.0.0.127.abc123.zen.dq.spamhaus.net"},
		{"dbl.spamhaus.org", "abc123", "2.0.0.127.abc123.dbl.dq.spamhaus.net"},
		{"bl.example.test", "abc123", "2.0.0.127.bl.example.test"},
	} {
		if got := byName[c.zone].query("2.0.0.127", probe.Password(c.key)); got != c.want {
			t.Errorf("%s with key %q: %s, want %s", c.zone, c.key, got, c.want)
		}
	}
	if !byName["dbl.spamhaus.org"].Domain || byName["bl.example.test"].Domain || byName["zen.spamhaus.org"].Refusals == nil {
		t.Errorf("zone kinds: %+v", byName)
	}
}
