package domainprobe

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/mailmon/mailmon/internal/dnsq"
	"github.com/mailmon/mailmon/internal/mail/smtp"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/wire"
)

// DANEName is the DANE monitor's type.
const DANEName = "dane"

// DANEKind is the DANE monitor (RFC 7672): the TLSA records of
// _PORT._tcp.HOST, validated by a DNSSEC-validating resolver, matched
// against the certificate chain the server presents after STARTTLS.
func DANEKind() probe.Kind {
	return probe.Kind{
		Name: DANEName, Title: "DANE", Seed: "DANE monitor",
		Summary: "Checks that the MX's DNSSEC-signed TLSA records match the certificate it presents over STARTTLS, with a next key published.",
		Ports:   probe.Ports{Plain: 25}, HasPort: true,
		Fields: []string{"resolver", "domain"},
		Check: func(c *probe.Config, bad func(field, format string, args ...any)) {
			checkResolver(c, bad)
			// An address without domain: is refused when the test runs
			// (daneName), so that /probe takes a dane target like any other.
			if d := domainOf(c); d != "" && c.Domain != "" {
				if _, ok := dns.IsDomainName(d); !ok || strings.ContainsAny(d, " /@") {
					bad("domain", "%q is not a host name, e.g. mx.example.org", d)
				} else if _, err := netip.ParseAddr(d); err == nil {
					bad("domain", "%s is an address: set domain: to the MX name, e.g. mx.example.org", d)
				}
			}
		},
		Probe: DANE,
	}
}

// tlsa is a TLSA record as mailmon reads it.
type tlsa struct {
	Usage, Selector, Matching uint8
	Data                      []byte
}

func (r tlsa) String() string {
	return fmt.Sprintf("%d %d %d %x", r.Usage, r.Selector, r.Matching, r.Data)
}

// usable reports whether SMTP senders use the record (RFC 7672 §3.1.3):
// DANE-TA(2) and DANE-EE(3), selectors 0 and 1, matching types 0, 1, 2.
func (r tlsa) usable() bool {
	return (r.Usage == 2 || r.Usage == 3) && r.Selector <= 1 && r.Matching <= 2
}

// matches reports whether the record's data is that of cert.
func (r tlsa) matches(cert *x509.Certificate) bool {
	data := cert.Raw
	if r.Selector == 1 {
		data = cert.RawSubjectPublicKeyInfo
	}
	switch r.Matching {
	case 1:
		h := sha256.Sum256(data)
		data = h[:]
	case 2:
		h := sha512.Sum512(data)
		data = h[:]
	}
	return bytes.Equal(data, r.Data)
}

// daneMatch is the first record the chain satisfies; for a DANE-TA record
// that the trust anchor matched but the chain or the name did not verify,
// why (an error, no match).
func daneMatch(records []tlsa, chain []*x509.Certificate, host string, t *probe.Trace) (*tlsa, error) {
	var whyNot error
	for i := range records {
		r := &records[i]
		switch r.Usage {
		case 3: // DANE-EE: the leaf's key or certificate; no name, no dates (RFC 7672 §3.1.1)
			if len(chain) > 0 && r.matches(chain[0]) {
				return r, nil
			}
		case 2: // DANE-TA: a certificate of the chain is the trust anchor; the chain and the name are verified (§3.1.2)
			for j := 1; j < len(chain); j++ {
				if !r.matches(chain[j]) {
					continue
				}
				roots, inter := x509.NewCertPool(), x509.NewCertPool()
				roots.AddCert(chain[j])
				for _, c := range chain[1:j] {
					inter.AddCert(c)
				}
				_, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: host, CurrentTime: t.Now()})
				if err == nil {
					return r, nil
				}
				whyNot = fmt.Errorf("the trust anchor of %s is presented, but the chain to it does not verify for %s: %v", r, host, err)
			}
		}
	}
	return nil, whyNot
}

func spkiSHA256(c *x509.Certificate) string {
	h := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(h[:])
}

// DANE is the DANE monitor's test. The MX name (domain:, else the host)
// names the TLSA records and the TLS server name; the host (the device's
// address, resolved through the monitor's resolver when it is a name) is
// where it connects.
func DANE(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
	c, err := client(cfg)
	if err != nil {
		return err
	}
	host := domainOf(cfg)
	if _, err := netip.ParseAddr(host); err == nil {
		return &probe.ConfigError{Errs: []probe.FieldError{{Field: "domain", Msg: fmt.Sprintf("is required: DANE's TLSA records are found by the mail server's name, not its address %s; set domain: to the MX name, e.g. mx.example.org", host)}}}
	}
	name := fmt.Sprintf("_%d._tcp.%s", cfg.Port, host)
	var records []tlsa
	var signed bool
	if err := step(t, "tlsa", func() error {
		a, err := c.Query(ctx, name, dns.TypeTLSA)
		if err != nil {
			if dnsq.NotFound(err) {
				return nil
			}
			return err
		}
		signed = a.AD
		for _, rr := range a.Records {
			r := rr.(*dns.TLSA)
			data, err := hex.DecodeString(r.Certificate)
			if err != nil {
				continue // not hex: unusable, as senders treat it
			}
			records = append(records, tlsa{r.Usage, r.Selector, r.MatchingType, data})
		}
		return nil
	}); err != nil {
		return err
	}
	var shown []string
	var usable []tlsa
	pkix := 0
	for _, r := range records {
		shown = append(shown, r.String())
		switch {
		case r.usable():
			usable = append(usable, r)
		case r.Usage <= 1:
			pkix++
		}
	}
	t.Detail("tlsa", shown)
	var f findings
	if len(records) == 0 {
		f.down(probe.RecordMissing, "%s has no TLSA records: DANE-validating senders use unauthenticated TLS; publish the server's key as \"%s. TLSA 3 1 1 <SHA-256 of its public key>\" (and a second record for the next key) in a DNSSEC-signed zone.", name, name)
		return f.result(t, "tlsa")
	}
	if !signed {
		return &probe.StepError{Phase: "tlsa", Code: probe.DNSSECInvalid, Err: fmt.Errorf("the TLSA records of %s are not DNSSEC-validated (the resolver's answer has no AD bit): DANE needs DNSSEC, and senders ignore TLSA records of an unsigned zone; sign the zone and publish its DS at the parent, and make sure the monitor's resolver validates (unbound, or BIND with dnssec-validation)", name)}
	}
	var addrs []netip.Addr
	if err := step(t, "resolve", func() (err error) {
		addrs, err = c.Addrs(ctx, cfg.Host)
		return err
	}); err != nil {
		return err
	}
	chain, err := daneHandshake(ctx, cfg, t, addrs[0], host)
	if err != nil {
		return err
	}
	if len(chain) == 0 {
		return &probe.StepError{Phase: "tls", Code: probe.TLSFailed, Err: fmt.Errorf("the server presented no certificate")}
	}
	leaf := chain[0]
	presented := spkiSHA256(leaf)
	t.Detail("presented", map[string]any{
		"subject": wire.Sanitize(leaf.Subject.String()), "spki_sha256": presented,
		"not_after": leaf.NotAfter.UTC(), "chain": len(chain),
	})
	if len(usable) == 0 {
		f.warn(probe.RecordInvalid, "The TLSA records of %s (%s) are all of usages 0/1 (PKIX-TA, PKIX-EE) or otherwise unusable, which SMTP senders ignore (RFC 7672 §3.1.3): they fall back to unauthenticated TLS. Publish \"3 1 1 %s\" (the presented key) instead.", name, strings.Join(shown, ", "), presented)
		return f.result(t, "tlsa")
	}
	match, why := daneMatch(usable, chain, host, t)
	if match == nil {
		var want []string
		for _, r := range usable {
			want = append(want, r.String())
		}
		msg := fmt.Sprintf("No TLSA record of %s matches the certificate %s presents (public key SHA-256 %s, subject %s); the records want %s. DANE-validating senders defer all mail to it: publish \"3 1 1 %s\" now (keep the old record until its TTL passes), and next time publish the new key's record before the renewal.",
			name, host, presented, wire.Sanitize(leaf.Subject.String()), strings.Join(want, ", "), presented)
		if why != nil {
			msg += " " + why.Error() + "."
		}
		f.down(probe.TLSAMismatch, "%s", msg)
		return f.result(t, "tlsa")
	}
	t.Detail("matched", match.String())
	if len(usable) == 1 {
		f.warn(probe.RecordMissing, "Only one TLSA record (%s) is published for %s and it matches the current key: a rollover will break DANE. Publish the next key's record as well (RFC 7671 §8, \"current + next\"), so that a renewed certificate matches before senders' caches expire.", match, name)
	}
	return f.result(t, "tlsa")
}

// daneHandshake opens an SMTP session to addr, upgrades it with STARTTLS
// and returns the chain presented. Trust is not judged here (a DANE-EE
// certificate is commonly self-signed, its name and dates not checked):
// the TLSA records judge it.
func daneHandshake(ctx context.Context, cfg *probe.Config, t *probe.Trace, addr netip.Addr, host string) ([]*x509.Certificate, error) {
	cc := *cfg
	cc.Host = addr.String()
	cc.TLS = probe.TLSNone // the session's STARTTLS is driven here
	var chain []*x509.Certificate
	tc := &tls.Config{
		ServerName:         host, // SNI: the TLSA base domain (RFC 7672 §8.1)
		InsecureSkipVerify: true, // judged by the TLSA records below
		MinVersion:         tls.VersionTLS12,
		VerifyConnection: func(cs tls.ConnectionState) error {
			chain = cs.PeerCertificates
			return nil
		},
	}
	open := func(cl *smtp.Client, c *wire.Conn) error {
		if err := t.Step("greeting", func() error { _, err := cl.Greeting(); return err }); err != nil {
			return err
		}
		if err := t.Step("capabilities", func() error { _, err := cl.Hello(probe.EHLOName(cfg)); return err }); err != nil {
			return err
		}
		if _, ok := cl.Ext("STARTTLS"); !ok {
			return t.Step("starttls", func() error { return wire.ErrTLSUnavailable })
		}
		if err := t.Step("starttls", cl.StartTLS); err != nil {
			return err
		}
		return t.Step("tls", func() error {
			if err := c.StartTLS(tc); err != nil {
				return err
			}
			t.SetTLS(c.TLS(), probe.TLSStartTLS)
			return nil
		})
	}
	cl, conn, err := probe.OpenSession(ctx, &cc, t, smtp.NewClient, open, (*smtp.Client).Quit)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = t.Step("quit", cl.Quit)
	return chain, nil
}
