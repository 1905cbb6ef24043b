package domainprobe

import (
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"

	"github.com/mailmon/mailmon/internal/dnsq"
	"github.com/mailmon/mailmon/internal/probe"
)

// The record monitors: dmarc, dkim and tls-rpt.
const (
	DMARCName  = "dmarc"
	DKIMName   = "dkim"
	TLSRPTName = "tls-rpt"
)

func domainCheck(c *probe.Config, bad func(field, format string, args ...any)) {
	checkResolver(c, bad)
	checkDomain(c, bad)
}

// DMARCKind is the DMARC monitor (RFC 7489).
func DMARCKind() probe.Kind {
	return probe.Kind{
		Name: DMARCName, Title: "DMARC record", Seed: "DMARC monitor",
		Summary: "Checks the domain's DMARC record: syntax, policy, pct, report destinations authorised.",
		Fields:  []string{"domain", "resolver"}, Check: domainCheck, Probe: DMARC,
	}
}

// DKIMKind is the DKIM key monitor.
func DKIMKind() probe.Kind {
	return probe.Kind{
		Name: DKIMName, Title: "DKIM keys", Seed: "DKIM monitor",
		Summary: "Checks the domain's DKIM keys of the given selectors: present, not revoked, strong enough.",
		Fields:  []string{"domain", "resolver", "selectors"},
		Check: func(c *probe.Config, bad func(field, format string, args ...any)) {
			domainCheck(c, bad)
			if len(c.Selectors) == 0 {
				bad("selectors", "is required: the selectors the domain signs with (the s= of its DKIM-Signature headers), e.g. [default]")
			}
			for i, s := range c.Selectors {
				if s == "" || strings.ContainsAny(s, " /\t") {
					bad(fmt.Sprintf("selectors[%d]", i), "%q is not a selector", s)
				}
			}
		},
		Probe: DKIM,
	}
}

// TLSRPTKind is the SMTP TLS reporting monitor (RFC 8460).
func TLSRPTKind() probe.Kind {
	return probe.Kind{
		Name: TLSRPTName, Title: "TLS-RPT record", Seed: "TLS-RPT monitor",
		Summary: "Checks the domain's SMTP TLS reporting record: syntax and report destinations.",
		Fields:  []string{"domain", "resolver"}, Check: domainCheck, Probe: TLSRPT,
	}
}

// tags reads a tag=value; list (DMARC, DKIM, TLS-RPT).
func tags(rec string) (map[string]string, []string, error) {
	m := map[string]string{}
	var order []string
	for _, part := range strings.Split(rec, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, nil, fmt.Errorf("%q is not tag=value", part)
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if _, dup := m[k]; dup {
			return nil, nil, fmt.Errorf("the tag %s is given twice", k)
		}
		m[k] = strings.TrimSpace(v)
		order = append(order, k)
	}
	return m, order, nil
}

// record finds the one TXT record at name starting with prefix.
func record(ctx context.Context, c *dnsq.Client, name, prefix, what string, f *findings) (string, error) {
	txt, err := c.TXT(ctx, name)
	if err != nil {
		return "", err
	}
	var recs []string
	for _, r := range txt {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(r)), strings.ToLower(prefix)) {
			recs = append(recs, r)
		}
	}
	switch len(recs) {
	case 0:
		f.down(probe.RecordMissing, "%s has no %s record (a TXT record starting %s): publish one.", name, what, prefix)
		return "", nil
	case 1:
		return recs[0], nil
	}
	f.down(probe.RecordInvalid, "%s has %d %s records, so receivers use none: keep one.", name, len(recs), what)
	return "", nil
}

// DMARC is the DMARC monitor's test.
func DMARC(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
	c, err := client(cfg)
	if err != nil {
		return err
	}
	domain := domainOf(cfg)
	name := "_dmarc." + domain
	var f findings
	err = step(t, "dmarc", func() error {
		rec, err := record(ctx, c, name, "v=DMARC1", "DMARC", &f)
		if err != nil || rec == "" {
			return err
		}
		t.Detail("dmarc", rec)
		m, order, err := tags(rec)
		if err != nil || order[0] != "v" || m["v"] != "DMARC1" {
			if err == nil {
				err = fmt.Errorf("it must start with v=DMARC1")
			}
			f.down(probe.RecordInvalid, "The DMARC record of %s is malformed (%v): correct its syntax (RFC 7489 §6.4).", domain, err)
			return nil
		}
		policy := func(tag string) {
			switch v := m[tag]; v {
			case "quarantine", "reject":
			case "none":
				f.warn(probe.PolicyMismatch, "The DMARC %s=none of %s only monitors: mail that fails DMARC is delivered anyway; move to quarantine or reject once the reports are clean.", tag, domain)
			default:
				if tag == "p" || v != "" {
					f.down(probe.RecordInvalid, "The DMARC %s= of %s is %q, not none, quarantine or reject: correct it.", tag, domain, v)
				}
			}
		}
		policy("p")
		policy("sp")
		if v, ok := m["pct"]; ok {
			n, err := strconv.Atoi(v)
			switch {
			case err != nil || n < 0 || n > 100:
				f.down(probe.RecordInvalid, "The DMARC pct= of %s is %q, not a number from 0 to 100: correct it.", domain, v)
			case n < 100:
				f.warn(probe.PolicyMismatch, "The DMARC pct=%d of %s applies the policy to only %d%% of failing mail: raise it to 100.", n, domain, n)
			}
		}
		for _, tag := range []string{"adkim", "aspf"} {
			if v, ok := m[tag]; ok && v != "r" && v != "s" {
				f.down(probe.RecordInvalid, "The DMARC %s= of %s is %q, not r or s: correct it.", tag, domain, v)
			}
		}
		for _, tag := range []string{"rua", "ruf"} {
			for _, u := range probe.SplitList(m[tag]) {
				if err := reportDest(ctx, c, domain, tag, u, &f); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return f.result(t, "dmarc")
}

// reportDest checks a DMARC report address: a mailto: URI, and on
// another domain authorised by its _report._dmarc record (RFC 7489 §7.1).
func reportDest(ctx context.Context, c *dnsq.Client, domain, tag, u string, f *findings) error {
	addr, ok := strings.CutPrefix(strings.ToLower(u), "mailto:")
	if !ok {
		f.down(probe.RecordInvalid, "The DMARC %s= of %s has %q, not a mailto: address: correct it.", tag, domain, u)
		return nil
	}
	addr, _, _ = strings.Cut(addr, "!") // a size limit
	a, err := mail.ParseAddress(addr)
	if err != nil {
		f.down(probe.RecordInvalid, "The DMARC %s= of %s has %q, not a mail address: correct it.", tag, domain, u)
		return nil
	}
	dest := a.Address[strings.LastIndexByte(a.Address, '@')+1:]
	if dest == domain || strings.HasSuffix(domain, "."+dest) || strings.HasSuffix(dest, "."+domain) {
		return nil
	}
	auth := domain + "._report._dmarc." + dest
	txt, err := c.TXT(ctx, auth)
	if err != nil {
		return err
	}
	for _, r := range txt {
		if strings.HasPrefix(strings.ToLower(r), "v=dmarc1") {
			return nil
		}
	}
	f.warn(probe.PolicyMismatch, "The DMARC %s= of %s sends reports to %s, which has not authorised it (no v=DMARC1 at %s), so receivers send none: ask its owner to publish that record.", tag, domain, dest, auth)
	return nil
}

// DKIM is the DKIM key monitor's test.
func DKIM(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
	c, err := client(cfg)
	if err != nil {
		return err
	}
	domain := domainOf(cfg)
	var f findings
	err = step(t, "dkim", func() error {
		for _, sel := range cfg.Selectors {
			name := sel + "._domainkey." + domain
			txt, err := c.TXT(ctx, name)
			if err != nil {
				return err
			}
			var recs []string
			for _, r := range txt {
				if strings.Contains(r, "p=") {
					recs = append(recs, r)
				}
			}
			if len(recs) != 1 {
				if len(recs) == 0 {
					f.down(probe.RecordMissing, "No DKIM key is published for selector %s (%s): publish the key the server signs with, or mail signed with it fails DKIM.", sel, name)
				} else {
					f.down(probe.RecordInvalid, "Selector %s has %d DKIM records (%s): keep one.", sel, len(recs), name)
				}
				continue
			}
			dkimKey(sel, name, recs[0], &f)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return f.result(t, "dkim")
}

// dkimKey judges one key record (RFC 6376 §3.6.1, RFC 8463).
func dkimKey(sel, name, rec string, f *findings) {
	m, _, err := tags(rec)
	if err != nil {
		f.down(probe.RecordInvalid, "The DKIM record of selector %s is malformed (%v): correct it.", sel, err)
		return
	}
	if v, ok := m["v"]; ok && v != "DKIM1" {
		f.down(probe.RecordInvalid, "The DKIM record of selector %s has v=%s, not DKIM1: correct it.", sel, v)
		return
	}
	p := strings.Join(strings.Fields(m["p"]), "")
	if p == "" {
		f.down(probe.RecordInvalid, "The DKIM key of selector %s is revoked (empty p=): mail signed with it fails DKIM; sign with a current selector or publish its key.", sel)
		return
	}
	der, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		f.down(probe.RecordInvalid, "The DKIM key of selector %s is not valid base64: publish it again.", sel)
		return
	}
	switch k := m["k"]; k {
	case "", "rsa":
		pub, err := x509.ParsePKIXPublicKey(der)
		var rk *rsa.PublicKey
		if err == nil {
			rk, _ = pub.(*rsa.PublicKey)
		} else {
			rk, err = x509.ParsePKCS1PublicKey(der)
		}
		if err != nil || rk == nil {
			f.down(probe.RecordInvalid, "The DKIM key of selector %s is not an RSA public key: publish it again.", sel)
			return
		}
		switch bits := rk.N.BitLen(); {
		case bits < 1024:
			f.down(probe.RecordInvalid, "The DKIM key of selector %s has %d bits, which receivers reject: make a 2048-bit key.", sel, bits)
		case bits < 2048:
			f.warn(probe.RecordInvalid, "The DKIM key of selector %s has %d bits, below the 2048 now expected: make a 2048-bit key at a new selector.", sel, bits)
		}
	case "ed25519":
		if len(der) != ed25519.PublicKeySize {
			f.down(probe.RecordInvalid, "The Ed25519 DKIM key of selector %s is %d bytes, not 32: publish it again.", sel, len(der))
		}
	default:
		f.down(probe.RecordInvalid, "The DKIM key of selector %s has k=%s, which is neither rsa nor ed25519: correct it.", sel, k)
	}
}

// TLSRPT is the TLS-RPT monitor's test.
func TLSRPT(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
	c, err := client(cfg)
	if err != nil {
		return err
	}
	domain := domainOf(cfg)
	var f findings
	err = step(t, "tls-rpt", func() error {
		rec, err := record(ctx, c, "_smtp._tls."+domain, "v=TLSRPTv1", "TLS-RPT", &f)
		if err != nil || rec == "" {
			return err
		}
		t.Detail("tls_rpt", rec)
		m, order, err := tags(rec)
		if err != nil || order[0] != "v" {
			if err == nil {
				err = fmt.Errorf("it must start with v=TLSRPTv1")
			}
			f.down(probe.RecordInvalid, "The TLS-RPT record of %s is malformed (%v): correct it (RFC 8460 §3).", domain, err)
			return nil
		}
		rua := probe.SplitList(m["rua"])
		if len(rua) == 0 {
			f.down(probe.RecordInvalid, "The TLS-RPT record of %s has no rua= destination: add rua=mailto:ADDRESS or rua=https://URL.", domain)
		}
		for _, r := range rua {
			u, err := url.Parse(r)
			if err != nil || (u.Scheme != "mailto" && u.Scheme != "https") || (u.Scheme == "mailto" && u.Opaque == "") || (u.Scheme == "https" && u.Host == "") {
				f.down(probe.RecordInvalid, "The TLS-RPT rua= of %s has %q, which is neither a mailto: nor an https: URI: correct it.", domain, r)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return f.result(t, "tls-rpt")
}
