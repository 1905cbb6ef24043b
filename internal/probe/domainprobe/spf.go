package domainprobe

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/mailmon/mailmon/internal/dnsq"
	"github.com/mailmon/mailmon/internal/probe"
)

// SPFName is the SPF monitor's type.
const SPFName = "spf"

// SPFKind is the SPF monitor: the domain's record per RFC 7208.
func SPFKind() probe.Kind {
	return probe.Kind{
		Name: SPFName, Title: "SPF record", Seed: "SPF monitor",
		Summary: "Checks the domain's SPF record: one record, its syntax, the lookup limits, a weak all, the sending addresses covered.",
		Fields:  []string{"domain", "resolver", "ips"},
		Check: func(c *probe.Config, bad func(field, format string, args ...any)) {
			checkResolver(c, bad)
			checkDomain(c, bad)
			for i, ip := range c.IPs {
				if _, err := netip.ParseAddr(ip); err != nil {
					bad(fmt.Sprintf("ips[%d]", i), "%q is not an IP address; list the addresses the domain sends from", ip)
				}
			}
		},
		Probe: SPF,
	}
}

// RFC 7208 §4.6.4: at most 10 terms that cause DNS lookups, at most 2 of
// them void (no answer).
const (
	spfMaxLookups = 10
	spfMaxVoid    = 2
)

// spfEval walks a record and the records it includes.
type spfEval struct {
	ctx     context.Context
	c       *dnsq.Client
	lookups int
	void    int
	records map[string][]spfTerm // by domain, parsed
}

type spfTerm struct {
	qual  byte // + - ~ ?
	mech  string
	value string // the domain-spec or network after ':' or '='
	cidr4 int
	cidr6 int
}

// fetch finds and parses domain's one SPF record.
func (e *spfEval) fetch(domain string) ([]spfTerm, error) {
	if terms, ok := e.records[domain]; ok {
		return terms, nil
	}
	txt, err := e.c.TXT(e.ctx, domain)
	if err != nil {
		return nil, err
	}
	var recs []string
	for _, r := range txt {
		if l := strings.ToLower(r); l == "v=spf1" || strings.HasPrefix(l, "v=spf1 ") {
			recs = append(recs, r)
		}
	}
	switch len(recs) {
	case 0:
		return nil, &spfError{probe.RecordMissing, fmt.Sprintf("%s has no SPF record (a TXT record starting v=spf1)", domain)}
	case 1:
	default:
		return nil, &spfError{probe.RecordInvalid, fmt.Sprintf("%s has %d SPF records, which is an error for every receiver (RFC 7208 §4.5)", domain, len(recs))}
	}
	terms, err := parseSPF(recs[0])
	if err != nil {
		return nil, &spfError{probe.RecordInvalid, fmt.Sprintf("the SPF record of %s: %v", domain, err)}
	}
	e.records[domain] = terms
	return terms, nil
}

type spfError struct {
	code probe.Code
	msg  string
}

func (e *spfError) Error() string { return e.msg }

// parseSPF reads a record's terms (RFC 7208 §4.6).
func parseSPF(rec string) ([]spfTerm, error) {
	var out []spfTerm
	for _, f := range strings.Fields(rec)[1:] {
		t := spfTerm{qual: '+', cidr4: 32, cidr6: 128}
		if strings.ContainsRune("+-~?", rune(f[0])) {
			t.qual, f = f[0], f[1:]
		}
		if name, v, ok := strings.Cut(f, "="); ok && !strings.Contains(name, ":") && !strings.Contains(name, "/") {
			switch strings.ToLower(name) {
			case "redirect", "exp":
				t.mech, t.value = strings.ToLower(name), v
			default:
				continue // unknown modifiers are ignored (§6)
			}
			out = append(out, t)
			continue
		}
		mech, v, _ := strings.Cut(f, ":")
		t.mech = strings.ToLower(mech)
		if i := strings.IndexByte(t.mech, '/'); i >= 0 { // a/24, mx/24//64
			v, t.mech = t.mech[i:], t.mech[:i]
		}
		// a cidr-length after the domain-spec
		if i := strings.IndexByte(v, '/'); i >= 0 && t.mech != "ip4" && t.mech != "ip6" {
			c4, c6, _ := strings.Cut(v[i+1:], "//")
			if c4 != "" {
				n, err := strconv.Atoi(c4)
				if err != nil || n > 32 {
					return nil, fmt.Errorf("%q has a bad prefix length", f)
				}
				t.cidr4 = n
			}
			if c6 != "" {
				n, err := strconv.Atoi(c6)
				if err != nil || n > 128 {
					return nil, fmt.Errorf("%q has a bad prefix length", f)
				}
				t.cidr6 = n
			}
			v = v[:i]
		}
		t.value = v
		switch t.mech {
		case "all", "a", "mx", "ptr":
		case "include", "exists":
			if v == "" {
				return nil, fmt.Errorf("%q needs a domain", f)
			}
		case "ip4", "ip6":
			if _, err := parseNet(v); err != nil {
				return nil, fmt.Errorf("%q: %v", f, err)
			}
		default:
			return nil, fmt.Errorf("%q is not an SPF mechanism", f)
		}
		out = append(out, t)
	}
	return out, nil
}

func parseNet(v string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(v); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or network", v)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// lookup counts one term that asks DNS, and fails past the limit.
func (e *spfEval) lookup() error {
	e.lookups++
	if e.lookups > spfMaxLookups {
		return &spfError{probe.RecordInvalid, fmt.Sprintf("the SPF record needs more than %d DNS lookups through its includes and redirects, which receivers treat as an error (RFC 7208 §4.6.4): flatten includes or drop unused ones", spfMaxLookups)}
	}
	return nil
}

func (e *spfEval) voided(n int, err error) error {
	if n == 0 && (err == nil || dnsq.NotFound(err)) {
		e.void++
		if e.void > spfMaxVoid {
			return &spfError{probe.RecordInvalid, fmt.Sprintf("more than %d lookups of the SPF record find nothing, which receivers treat as an error (RFC 7208 §4.6.4): remove the includes and names that no longer exist", spfMaxVoid)}
		}
		return nil
	}
	return err
}

// addrs are a name's addresses, counted as a void lookup when none.
func (e *spfEval) addrs(name string) ([]netip.Addr, error) {
	as, err := e.c.Addrs(e.ctx, name)
	if err := e.voided(len(as), err); err != nil {
		return nil, err
	}
	return as, nil
}

// check evaluates the record of domain for ip (RFC 7208 §4.6, without
// macros): the qualifier of the first matching term, '?' when none.
// Every term that looks up DNS is counted even when an earlier one
// matched, so that the limits are found for every sender.
func (e *spfEval) check(domain string, ip netip.Addr, depth int) (byte, error) {
	if depth > spfMaxLookups {
		return 0, &spfError{probe.RecordInvalid, "the SPF includes loop"}
	}
	terms, err := e.fetch(domain)
	if err != nil {
		return 0, err
	}
	var result byte
	var redirect string
	for _, t := range terms {
		target := t.value
		if target == "" {
			target = domain
		}
		macro := strings.Contains(target, "%")
		match := false
		switch t.mech {
		case "all":
			match = true
		case "ip4", "ip6":
			p, _ := parseNet(t.value)
			match = ip.IsValid() && p.Contains(ip)
		case "include":
			if err := e.lookup(); err != nil {
				return 0, err
			}
			if macro {
				continue
			}
			q, err := e.check(target, ip, depth+1)
			if err != nil {
				return 0, err
			}
			match = q == '+'
		case "a", "mx", "exists", "ptr":
			if err := e.lookup(); err != nil {
				return 0, err
			}
			if macro || t.mech == "ptr" {
				continue // not evaluated: counted only
			}
			var as []netip.Addr
			if t.mech == "mx" {
				mx, err := e.c.MX(e.ctx, target)
				if err := e.voided(len(mx), err); err != nil {
					return 0, err
				}
				for _, h := range mx {
					a, err := e.addrs(h)
					if err != nil {
						return 0, err
					}
					as = append(as, a...)
				}
			} else {
				a, err := e.addrs(target)
				if err != nil {
					return 0, err
				}
				as = a
			}
			for _, a := range as {
				bits := t.cidr4
				if a.Is6() {
					bits = t.cidr6
				}
				p, _ := a.Prefix(bits)
				if ip.IsValid() && p.Contains(ip) || t.mech == "exists" {
					match = true
				}
			}
		case "redirect":
			redirect = t.value
		}
		if match && result == 0 {
			result = t.qual
		}
	}
	if result == 0 && redirect != "" {
		if err := e.lookup(); err != nil {
			return 0, err
		}
		return e.check(redirect, ip, depth+1)
	}
	if result == 0 {
		result = '?'
	}
	return result, nil
}

// SPF is the SPF monitor's test.
func SPF(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
	c, err := client(cfg)
	if err != nil {
		return err
	}
	domain := domainOf(cfg)
	var f findings
	err = step(t, "spf", func() error {
		e := &spfEval{ctx: ctx, c: c, records: map[string][]spfTerm{}}
		// The walk without a sender finds the record, its syntax and the
		// limits; then each sending address.
		if _, err := e.check(domain, netip.Addr{}, 0); err != nil {
			return err
		}
		t.Detail("spf_lookups", e.lookups)
		for _, term := range e.records[domain] {
			if term.mech != "all" {
				continue
			}
			switch term.qual {
			case '+':
				f.down(probe.RecordInvalid, "The SPF record of %s ends in +all, which authorises every server on the internet to send as the domain: end it in -all or ~all.", domain)
			case '?':
				f.warn(probe.RecordInvalid, "The SPF record of %s ends in ?all, which says nothing of other senders: end it in -all or ~all.", domain)
			}
		}
		for _, s := range cfg.IPs {
			ip := netip.MustParseAddr(s)
			e := &spfEval{ctx: ctx, c: c, records: map[string][]spfTerm{}}
			q, err := e.check(domain, ip, 0)
			if err != nil {
				return err
			}
			if q != '+' {
				f.down(probe.PolicyMismatch, "The SPF record of %s does not authorise the sending address %s (result %s): add it (ip4:/ip6: or an include) or mail from it fails SPF.", domain, ip, spfResult(q))
			}
		}
		return nil
	})
	var se *spfError
	if errors.As(err, &se) {
		f.down(se.code, "%s.", upper(se.msg))
		return f.result(t, "spf")
	}
	if err != nil {
		return err
	}
	return f.result(t, "spf")
}

func spfResult(q byte) string {
	switch q {
	case '-':
		return "fail"
	case '~':
		return "softfail"
	case '?':
		return "neutral"
	}
	return "pass"
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
