package plugin

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/testutil/realdns"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

// TestDomainTypes: the domain types through "mailmon check", Nagios and
// JSON, against NSD and a validating unbound.
func TestDomainTypes(t *testing.T) {
	s := realdns.Start(t,
		realdns.Zone{Name: "example.test", Records: `
@ TXT "v=spf1 ip4:192.0.2.0/24 -all"
weak TXT "v=spf1 +all"
_dmarc TXT "v=DMARC1; p=none"
_mta-sts.sts TXT "v=STSv1; id=2026"
_mta-sts.badsts TXT "v=STSv1; id=x-y"
`},
		realdns.Zone{Name: "bl.test", Unsigned: true, Records: "2.2.0.192 A 127.0.0.2\n"},
	)
	res := []string{"--resolver", s.Resolver}
	for _, c := range []struct {
		name string
		args []string
		code int
		line string
	}{
		{"spf ok", []string{"spf", "--domain", "example.test", "--ips", "192.0.2.9"}, 0, "OK"},
		{"spf not covering", []string{"spf", "--domain", "example.test", "--ips", "198.51.100.1"}, 2, "policy_mismatch"},
		{"spf weak", []string{"spf", "--domain", "weak.example.test"}, 2, "record_invalid"},
		{"dmarc none", []string{"dmarc", "--domain", "example.test"}, 1, "policy_mismatch"},
		{"dnsbl listed", []string{"dnsbl", "--host", "192.0.2.2", "--zones", "bl.test"}, 2, "listed"},
		{"dnsbl clean", []string{"dnsbl", "-H", "192.0.2.1", "--zones", "bl.test"}, 0, "OK"},
		{"mta-sts without record", []string{"mta-sts", "--domain", "example.test"}, 2, "record_missing"},
		{"mta-sts bad id", []string{"mta-sts", "--domain", "badsts.example.test"}, 2, "record_invalid"},
		{"mta-sts without policy host", []string{"mta-sts", "--domain", "sts.example.test"}, 2, "mta-sts.sts.example.test does not resolve"},
		{"dkim without selector", []string{"dkim", "--domain", "example.test"}, 3, "selectors"},
		{"bad resolver", []string{"spf", "--domain", "example.test", "--resolver", "dns.example"}, 3, "IP:PORT"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append(append([]string{}, c.args...), res...)
			if c.name == "bad resolver" {
				args = c.args
			}
			code, out, errOut := run(t, nil, args...)
			if code != c.code || !strings.Contains(out+errOut, c.line) {
				t.Errorf("exit %d, want %d with %q:\n%s%s", code, c.code, c.line, out, errOut)
			}
		})
	}
	code, out, _ := run(t, nil, append([]string{"dnsbl", "--host", "192.0.2.2", "--zones", "bl.test", "--output", "json"}, res...)...)
	var r struct {
		Status string `json:"status"`
		Error  struct {
			Code string `json:"code"`
		} `json:"error"`
		Details map[string]any `json:"details"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 2 || r.Status != "down" || r.Error.Code != "listed" || r.Details["findings"] == nil {
		t.Errorf("json: %d %v %+v\n%s", code, err, r, out)
	}
	code, out, _ = run(t, nil, append([]string{"mta-sts", "--domain", "sts.example.test", "--output", "json"}, res...)...)
	r.Details = nil
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 2 || r.Status != "down" || r.Error.Code != "record_missing" || r.Details["mta_sts"] != "v=STSv1; id=2026" {
		t.Errorf("mta-sts json: %d %v %+v\n%s", code, err, r, out)
	}
}

// TestDANE: "mailmon check dane" against the harness's Postfix, its TLSA
// records served by NSD, signed, validated by unbound: Nagios and JSON.
func TestDANE(t *testing.T) {
	e := realmail.Start(t)
	cur := realdns.Cert(t, e.CertFile)
	next := "3 1 1 " + strings.Repeat("ab", 32)
	s := realdns.Start(t, realdns.Zone{Name: "dane.test", Records: realdns.TLSARecords("mx", e.SMTP, realdns.TLSA311(cur), next) +
		realdns.TLSARecords("single", e.SMTP, realdns.TLSA311(cur)) +
		realdns.TLSARecords("renewed", e.SMTP, next)})
	port := strconv.Itoa(e.SMTP)
	for _, c := range []struct {
		host string
		code int
		line string
	}{
		{"mx.dane.test", 0, "OK"},
		{"single.dane.test", 1, "record_missing"},
		{"renewed.dane.test", 2, "tlsa_mismatch"},
	} {
		code, out, errOut := run(t, nil, "dane", "--host", c.host, "--port", port, "--resolver", s.Resolver)
		if code != c.code || !strings.Contains(out, c.line) {
			t.Errorf("%s: exit %d, want %d with %q:\n%s%s", c.host, code, c.code, c.line, out, errOut)
		}
	}
	code, out, _ := run(t, nil, "dane", "--host", "renewed.dane.test", "--port", port, "--resolver", s.Resolver, "--output", "json")
	var r struct {
		Status string `json:"status"`
		Error  struct {
			Code   string `json:"code"`
			Detail string `json:"detail"`
		} `json:"error"`
		Details map[string]any `json:"details"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 2 || r.Status != "down" || r.Error.Code != "tlsa_mismatch" ||
		!strings.Contains(r.Error.Detail, realdns.TLSA311(cur)[6:]) || r.Details["presented"] == nil {
		t.Errorf("json: %d %v %+v\n%s", code, err, r, out)
	}
}
