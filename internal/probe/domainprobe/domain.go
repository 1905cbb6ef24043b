// Package domainprobe holds the domain-health monitor types: dnsbl, spf,
// dmarc, dkim, tls-rpt, mta-sts and rdns. Each is a probe.Kind of its own; they share
// the DNS client (package dnsq, one named resolver) and the way a test
// reports what it found: every finding is a code and one sentence saying
// what it means and what to do, the worst of them decides the status
// (docs/domain-health.md).
package domainprobe

import (
	"strings"
	"syscall"

	"errors"
	"fmt"
	"github.com/miekg/dns"
	"net/netip"

	"github.com/mailmon/mailmon/internal/dnsq"
	"github.com/mailmon/mailmon/internal/probe"
)

// Finding is one thing a test found wrong.
type Finding struct {
	Code    probe.Code `json:"code"`
	Down    bool       `json:"down"` // false: a Warn
	Message string     `json:"message"`
}

// findings collects a test's findings.
type findings struct{ list []Finding }

func (f *findings) down(code probe.Code, format string, args ...any) {
	f.list = append(f.list, Finding{code, true, fmt.Sprintf(format, args...)})
}

func (f *findings) warn(code probe.Code, format string, args ...any) {
	f.list = append(f.list, Finding{code, false, fmt.Sprintf(format, args...)})
}

// result records the findings on the trace and returns the error that
// makes the status: the first Down finding, else the first Warn, else nil.
func (f *findings) result(t *probe.Trace, phase string) error {
	if len(f.list) == 0 {
		return nil
	}
	t.Detail("findings", f.list)
	for _, x := range f.list {
		if x.Down {
			return &probe.StepError{Phase: phase, Code: x.Code, Err: errors.New(x.Message)}
		}
	}
	x := f.list[0]
	return &probe.StepError{Phase: phase, Code: x.Code, Err: &probe.Warning{Code: x.Code, Err: errors.New(x.Message)}}
}

// client is the test's DNS client: the monitor's resolver (the system's
// when none is set, never in a test), its address held to the egress
// policy of a target configured over the network.
func client(cfg *probe.Config) (*dnsq.Client, error) {
	c, err := dnsq.New(cfg.DNSServer)
	if err != nil {
		return nil, &probe.ConfigError{Errs: []probe.FieldError{{Field: "resolver", Msg: err.Error()}}}
	}
	if cfg.Egress != nil {
		ap, err := netip.ParseAddrPort(c.Server)
		if err != nil {
			return nil, err
		}
		c.Guard = cfg.Egress.Guard(ap.Addr().String())
	}
	return c, nil
}

// lookupErr gives a failed lookup its code: a bogus answer is
// dnssec_invalid, a failing resolver dns_failed; timeouts classify as
// such.
func lookupErr(err error) error {
	var bogus *dnsq.BogusError
	var rc *dnsq.RcodeError
	var big *dnsq.TooBigError
	switch {
	case errors.As(err, &bogus):
		return &probe.CodeError{Code: probe.DNSSECInvalid, Err: fmt.Errorf("%w: a validating resolver refuses it, so will every DNSSEC-validating sender; fix the zone's signatures (re-sign, or check the DS at the parent)", err)}
	case errors.As(err, &rc), errors.As(err, &big):
		return &probe.CodeError{Code: probe.DNSFailed, Err: err}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &probe.CodeError{Code: probe.ConnectFailed, Err: fmt.Errorf("%w: no DNS resolver listens there; check resolver:", err)}
	}
	return err
}

// step runs one lookup phase.
func step(t *probe.Trace, phase string, fn func() error) error {
	return t.Step(phase, func() error { return lookupErr(fn()) })
}

// checkResolver validates the resolver field, common to every type here.
func checkResolver(c *probe.Config, bad func(field, format string, args ...any)) {
	if c.DNSServer != "" {
		s, err := dnsq.ParseServer(c.DNSServer)
		if err != nil {
			bad("resolver", "%v", err)
			return
		}
		c.DNSServer = s
	}
}

// checkDomain validates the domain of spf, dmarc, dkim and tls-rpt: the
// domain: setting, else the host (the device's address) when it is a name.
func checkDomain(c *probe.Config, bad func(field, format string, args ...any)) {
	d := domainOf(c)
	if d == "" {
		return // "host is required" comes from the common checks
	}
	if _, err := netip.ParseAddr(d); err == nil {
		bad("domain", "is required: the address %s is no domain; set domain: example.org", d)
		return
	}
	if _, ok := dns.IsDomainName(d); !ok || strings.ContainsAny(d, " /@") {
		bad("domain", "%q is not a domain name, e.g. example.org", d)
	}
}

// domainOf is the domain a test looks at, lower case, without the root dot.
func domainOf(c *probe.Config) string {
	d := c.Domain
	if d == "" {
		d = c.Host
	}
	return strings.ToLower(strings.TrimSuffix(d, "."))
}
