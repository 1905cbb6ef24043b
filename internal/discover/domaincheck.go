package discover

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/mailmon/mailmon/internal/dnsq"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/domainprobe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
)

// DomainCheck is what discovery found of one of a domain's published
// records: whether it is published, so that a monitor of Type is
// proposed for it, and how it looks, in a sentence.
type DomainCheck struct {
	Type      string   `json:"type"`                // the monitor type: mta-sts, tls-rpt, dkim, dane, rdns
	Host      string   `json:"host,omitempty"`      // dane, rdns: the MX host
	Published bool     `json:"published"`           // a monitor is proposed
	Selectors []string `json:"selectors,omitempty"` // dkim: the selectors that hold a key
	Grade     Grade    `json:"grade,omitempty"`     // of a published record: its monitor's test, good (Up), weak (Warn) or bad (Down)
	Message   string   `json:"message"`
}

// DKIMSelectors are the selectors discovery tries, since DNS cannot list
// a domain's: the common defaults of signing software and providers
// (default: OpenDKIM, Postfix guides, cPanel; selector1 and selector2:
// Microsoft 365; google: Google Workspace; k1: Mailchimp; s1 and s2;
// dkim and mail: common hand-picked names).
func DKIMSelectors() []string {
	return []string{"default", "selector1", "selector2", "google", "k1", "s1", "s2", "dkim", "mail"}
}

// domainChecks looks up, within ctx (discovery's deadline) and through
// discovery's resolver, what domain publishes beside its MX: the MTA-STS
// and TLS-RPT records, DKIM keys under the common selectors, and for each
// MX host its TLSA records (DANE) and reverse DNS. What is published is
// tested once by the monitor that would watch it, for its grade. All the
// lookups run at once.
func domainChecks(ctx context.Context, domain string, mx []string, o *Options) []DomainCheck {
	c, err := dnsq.New(o.ResolverAddr)
	if err != nil {
		return []DomainCheck{{Message: fmt.Sprintf("the domain's records were not looked up: %v", err)}}
	}
	d := &domainLookup{c: c, domain: domain, o: o, port: smtpPort(o.Ports)}
	out := make([]DomainCheck, 3+2*len(mx))
	var wg sync.WaitGroup
	do := func(i int, fn func() DomainCheck) {
		wg.Go(func() { out[i] = fn() })
	}
	do(0, func() DomainCheck { return d.mtaSTS(ctx) })
	do(1, func() DomainCheck { return d.tlsRPT(ctx) })
	do(2, func() DomainCheck { return d.dkim(ctx) })
	for i, h := range mx {
		do(3+2*i, func() DomainCheck { return d.dane(ctx, h) })
		do(4+2*i, func() DomainCheck { return d.rdns(ctx, h) })
	}
	wg.Wait()
	return out
}

// smtpPort is the port discovery tries for SMTP (25 unless --ports says
// otherwise): the port of the DANE and rDNS tests.
func smtpPort(ports []Port) int {
	for _, p := range ports {
		if p.Service == "smtp" {
			return p.Port
		}
	}
	return 25
}

type domainLookup struct {
	c      *dnsq.Client
	domain string
	o      *Options
	port   int
}

// test runs the monitor of type typ once on cfg, as the proposed monitor
// will: the check's grade, and the sentence of its worst finding.
func (d *domainLookup) test(ctx context.Context, typ string, cfg probe.Config) (*probe.Result, Grade, string) {
	k, _ := kinds.Lookup(typ)
	if d.o.Probers != nil {
		if p, ok := d.o.Probers(typ); ok {
			k.Probe = p
		}
	}
	cfg.Type, cfg.DNSServer, cfg.RootCAs, cfg.EHLOName = typ, d.o.ResolverAddr, d.o.RootCAs, d.o.EHLOName
	cfg.CertWarnDays = d.o.CertWarnDays
	r := probe.Run(ctx, k, cfg)
	switch {
	case r.Status == probe.StatusUp:
		return r, GradeGood, ""
	case r.Error != nil:
		g := GradeBad
		if r.Status == probe.StatusWarn {
			g = GradeWeak
		}
		msg := r.Error.Detail
		if msg == "" {
			msg = r.Error.Message
		}
		return r, g, fmt.Sprintf("%s (%s)", msg, r.Error.Code)
	default:
		return r, GradeWeak, strings.Join(r.Warnings, "; ")
	}
}

// judged appends a test's finding to what was found.
func judged(ch DomainCheck, g Grade, finding string) DomainCheck {
	ch.Grade = g
	if finding != "" {
		ch.Message += ": " + finding
	}
	return ch
}

func hasPrefix(txt []string, prefix string) bool {
	for _, r := range txt {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(r)), strings.ToLower(prefix)) {
			return true
		}
	}
	return false
}

// record looks up the TXT record of name starting with prefix (absent:
// what its absence means) and, when it is published, tests it as a
// monitor of type typ will; an MTA-STS policy's mode is told.
func (d *domainLookup) record(ctx context.Context, typ, name, prefix, what, absent string) DomainCheck {
	ch := DomainCheck{Type: typ}
	txt, err := d.c.TXT(ctx, name)
	switch {
	case err != nil:
		ch.Message = fmt.Sprintf("%s not looked up (%s: %v)", what, name, err)
		return ch
	case !hasPrefix(txt, prefix):
		ch.Message = fmt.Sprintf("%s not published (no %s record): %s", what, name, absent)
		return ch
	}
	ch.Published, ch.Message = true, what+" published"
	r, g, finding := d.test(ctx, typ, probe.Config{Host: d.domain})
	if p, ok := r.Details["policy"].(domainprobe.Policy); ok && p.Mode != "" {
		ch.Message += ", mode " + p.Mode
	}
	return judged(ch, g, finding)
}

func (d *domainLookup) mtaSTS(ctx context.Context) DomainCheck {
	return d.record(ctx, domainprobe.MTASTSName, "_mta-sts."+d.domain, "v=STSv1", "MTA-STS",
		"senders cannot insist on TLS to the MX; docs/domain-health.md says how to publish it")
}

func (d *domainLookup) tlsRPT(ctx context.Context) DomainCheck {
	return d.record(ctx, domainprobe.TLSRPTName, "_smtp._tls."+d.domain, "v=TLSRPTv1", "TLS-RPT",
		"senders do not report failed TLS to the MX")
}

// dkim tries the common selectors, all at once.
func (d *domainLookup) dkim(ctx context.Context) DomainCheck {
	ch := DomainCheck{Type: domainprobe.DKIMName}
	sels := DKIMSelectors()
	found := make([]bool, len(sels))
	errs := make([]error, len(sels))
	var wg sync.WaitGroup
	for i, s := range sels {
		wg.Go(func() {
			txt, err := d.c.TXT(ctx, s+"._domainkey."+d.domain)
			errs[i] = err
			for _, r := range txt {
				found[i] = found[i] || strings.Contains(r, "p=")
			}
		})
	}
	wg.Wait()
	var failed []string
	for i, s := range sels {
		if found[i] {
			ch.Selectors = append(ch.Selectors, s)
		} else if errs[i] != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", s, errs[i]))
		}
	}
	if len(ch.Selectors) == 0 {
		ch.Message = fmt.Sprintf("DKIM needs the selector: no key under the common selectors (%s), so no dkim monitor is proposed; add one with the selector of the domain's DKIM-Signature headers (s=), docs/domain-health.md", strings.Join(sels, ", "))
		if len(failed) > 0 {
			ch.Message += "; lookups failed: " + strings.Join(failed, "; ")
		}
		return ch
	}
	ch.Published = true
	ch.Message = fmt.Sprintf("DKIM key(s) found for selector(s) %s", strings.Join(ch.Selectors, ", "))
	_, g, finding := d.test(ctx, domainprobe.DKIMName, probe.Config{Host: d.domain, Selectors: ch.Selectors})
	return judged(ch, g, finding)
}

// dane proposes a DANE monitor for an MX host whose TLSA records the
// resolver authenticated: unsigned records are ignored by senders (a
// dane monitor would only say dnssec_invalid), so they are reported, not
// monitored; bogus ones are what a dane monitor is for.
func (d *domainLookup) dane(ctx context.Context, host string) DomainCheck {
	ch := DomainCheck{Type: domainprobe.DANEName, Host: host}
	name := "_" + strconv.Itoa(d.port) + "._tcp." + host
	a, err := d.c.Query(ctx, name, dns.TypeTLSA)
	var bogus *dnsq.BogusError
	switch {
	case errors.As(err, &bogus):
		ch.Published = true
		ch.Message = fmt.Sprintf("DANE: the TLSA records of %s do not validate (bogus): DANE-validating senders defer all mail to it; re-sign the zone or check its DS", host)
		ch.Grade = GradeBad
		return ch
	case dnsq.NotFound(err) || err == nil && len(a.Records) == 0:
		ch.Message = fmt.Sprintf("DANE not in use for %s (no TLSA records at %s)", host, name)
		return ch
	case err != nil:
		ch.Message = fmt.Sprintf("DANE not looked up for %s (%v)", host, err)
		return ch
	case !a.AD:
		ch.Message = fmt.Sprintf("DANE: %s has TLSA records, but the answer is not authenticated (the zone is unsigned, or the resolver does not validate DNSSEC), so senders ignore them and no dane monitor is proposed; sign the zone, or discover with --resolver naming a validating resolver", host)
		return ch
	}
	ch.Published = true
	ch.Message = fmt.Sprintf("DANE: TLSA for %s authenticated (%d record(s))", host, len(a.Records))
	_, g, finding := d.test(ctx, domainprobe.DANEName, probe.Config{Host: host, Port: d.port})
	if g == GradeGood {
		finding = "they match the certificate it presents"
	}
	return judged(ch, g, finding)
}

// rdns tests an MX host's reverse DNS as its rdns monitor will.
func (d *domainLookup) rdns(ctx context.Context, host string) DomainCheck {
	ch := DomainCheck{Type: domainprobe.RDNSName, Host: host, Published: true}
	r, g, finding := d.test(ctx, domainprobe.RDNSName, probe.Config{Host: host, Port: d.port})
	ch.Message = "reverse DNS of " + host
	if ptr, ok := r.Details["ptr"].([]string); ok && len(ptr) > 0 {
		ch.Message += ": PTR " + strings.Join(ptr, ", ") + ", forward-confirmed"
	}
	if g == GradeGood {
		finding = "the SMTP greeting agrees"
	}
	return judged(ch, g, finding)
}
