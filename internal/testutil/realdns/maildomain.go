package realdns

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

// MailDomain is the harness Postfix's domain (realmail.Env.Domain,
// example.test) published in full by NSD, signed, and validated by
// unbound: MX mail.example.test (Postfix's myhostname) at 127.0.0.1, SPF,
// DMARC, a DKIM key under selector1, MTA-STS with its policy served over
// HTTPS by PolicyServer (a certificate of CA), TLS-RPT, TLSA records at
// _SMTP._tcp.mail.example.test matching Postfix's certificate (and a next
// key), and the PTR of 127.0.0.1 naming mail.example.test. Every record is
// one a domain-health monitor finds Up.
type MailDomain struct {
	*Server
	Domain     string // "example.test"
	MX         string // "mail.example.test"
	SMTP       int    // Postfix's port 25 (realmail.Env.SMTP): the TLSA records' port
	CA         *certs.CA
	CAFile     string // PEM of realmail's CA (Postfix's certificate) and of CA (the policy host's)
	PolicyPort int    // the policy server's HTTPS port: domainprobe.MTASTSAt(PolicyPort)

	dkim string // the DKIM key record
	next string // the TLSA data of a next key
	cur  string // the TLSA data of Postfix's key
}

// MailZone is what the domain's zone holds; the zero value is every
// record good.
type MailZone struct {
	TLSA    []string // the TLSA data at _SMTP._tcp.MX; nil: Postfix's key and a next key
	NoDMARC bool     // no _dmarc record
}

// StartMailDomain publishes e's domain and serves its MTA-STS policy.
// blocklists are zones served unsigned and empty beside it (nothing is
// listed): give the dnsbl monitor's default zones, so that a proposed
// blocklist monitor asks NSD, never the Internet.
func StartMailDomain(t testing.TB, e *realmail.Env, blocklists ...string) *MailDomain {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	d := &MailDomain{Domain: e.Domain, MX: "mail." + e.Domain, SMTP: e.SMTP, CA: certs.NewCA(t),
		dkim: "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub),
		next: fmt.Sprintf("3 1 1 %x", sha256.Sum256([]byte("the next key"))),
		cur:  TLSA311(Cert(t, e.CertFile)),
	}
	caPEM, err := os.ReadFile(e.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	d.CAFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(d.CAFile, append(caPEM, d.CA.PEM...), 0o644); err != nil {
		t.Fatal(err)
	}
	d.PolicyPort, _ = PolicyServer(t, map[string]PolicySite{d.Domain: {
		Cert:        d.CA.Issue(t, certs.Leaf{Names: []string{"mta-sts." + d.Domain}}),
		ContentType: "text/plain",
		Policy:      fmt.Sprintf("version: STSv1\r\nmode: enforce\r\nmx: %s\r\nmax_age: 604800\r\n", d.MX),
	}})
	zones := []Zone{d.Zone(MailZone{}), {Name: "0.0.127.in-addr.arpa", Records: "1 PTR " + d.MX + ".\n"}}
	for _, b := range blocklists {
		zones = append(zones, Zone{Name: b, Unsigned: true})
	}
	d.Server = Start(t, zones...)
	return d
}

// Zone is the domain's zone holding z: Start serves MailZone{}, Update
// another.
func (d *MailDomain) Zone(z MailZone) Zone {
	tlsa := z.TLSA
	if tlsa == nil {
		tlsa = []string{d.cur, d.next}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "@ MX 10 mail\n")
	b.WriteString(TLSARecords("mail", d.SMTP, tlsa...))
	fmt.Fprintf(&b, "@ TXT \"v=spf1 mx -all\"\n")
	if !z.NoDMARC {
		fmt.Fprintf(&b, "_dmarc TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@%s\"\n", d.Domain)
	}
	fmt.Fprintf(&b, "selector1._domainkey TXT %q\n", d.dkim)
	fmt.Fprintf(&b, "_mta-sts TXT \"v=STSv1; id=20260101T000000\"\nmta-sts A 127.0.0.1\n")
	fmt.Fprintf(&b, "_smtp._tls TXT \"v=TLSRPTv1; rua=mailto:tls@%s\"\n", d.Domain)
	return Zone{Name: d.Domain, Records: b.String()}
}
