package domainprobe

import (
	"context"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/mailmon/mailmon/internal/dnsq"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/wire"
)

// RDNSName is the reverse DNS monitor's type.
const RDNSName = "rdns"

// RDNSKind is the reverse DNS monitor: each address of the host has a PTR
// record whose name resolves back to it, and the SMTP greeting on its
// port (25) names that host.
func RDNSKind() probe.Kind {
	return probe.Kind{
		Name: RDNSName, Title: "Reverse DNS", Seed: "Reverse DNS monitor",
		Summary: "Checks that each address has a forward-confirmed PTR record and that the SMTP greeting names it.",
		Ports:   probe.Ports{Plain: 25}, HasPort: true,
		Fields: []string{"resolver"},
		Check: func(c *probe.Config, bad func(field, format string, args ...any)) {
			checkResolver(c, bad)
		},
		Probe: RDNS,
	}
}

// RDNS is the reverse DNS monitor's test.
func RDNS(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
	c, err := client(cfg)
	if err != nil {
		return err
	}
	var addrs []netip.Addr
	if err := step(t, "resolve", func() (err error) {
		addrs, err = c.Addrs(ctx, cfg.Host)
		return err
	}); err != nil {
		return err
	}
	var f findings
	var names []string
	if err := step(t, "ptr", func() error {
		for _, a := range addrs {
			name, err := confirmed(ctx, c, a, &f)
			if err != nil {
				return err
			}
			if name != "" {
				names = append(names, name)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	t.Detail("ptr", names)
	// The greeting names the host that answers; it should be the PTR name,
	// which receivers compare with the EHLO name and the address.
	// It connects to the address the monitor's resolver gave, as DANE
	// does: the host may be a name only that resolver knows.
	cc := *cfg
	cc.Host = addrs[0].String()
	conn, err := probe.Connect(ctx, &cc, t)
	if err != nil {
		return err
	}
	defer conn.Close()
	var greeting string
	if err := t.Step("greeting", func() error {
		line, err := conn.ReadLine()
		if err != nil {
			return err
		}
		// Only an SMTP greeting is reported: another service's first line
		// is a protocol violation, whose words a network caller never sees.
		if !strings.HasPrefix(line, "220") {
			return wire.Violation("the answer on port %d is not an SMTP greeting (220)", cfg.Port)
		}
		greeting = wire.Sanitize(line)
		return nil
	}); err != nil {
		return err
	}
	t.Detail("greeting", greeting)
	fields := strings.Fields(strings.TrimPrefix(strings.TrimPrefix(greeting, "220-"), "220 "))
	if len(fields) > 0 && len(names) > 0 {
		said := strings.ToLower(strings.TrimSuffix(fields[0], "."))
		match := false
		for _, n := range names {
			match = match || n == said
		}
		if !match {
			f.warn(probe.PolicyMismatch, "The SMTP greeting names %s but the address's PTR record names %s: set the server's host name (Postfix myhostname) to the PTR name, or receivers may distrust its EHLO.", wire.Truncate(said, 100), strings.Join(names, ", "))
		}
	}
	return f.result(t, "ptr")
}

// confirmed finds a's PTR names and returns the one that resolves back to
// a, adding a finding when none does.
func confirmed(ctx context.Context, c *dnsq.Client, a netip.Addr, f *findings) (string, error) {
	suffix := ".in-addr.arpa"
	if a.Is6() && !a.Is4In6() {
		suffix = ".ip6.arpa"
	}
	ans, err := c.Query(ctx, dnsq.ReverseName(a)+suffix, dns.TypePTR)
	if err != nil && !dnsq.NotFound(err) {
		return "", err
	}
	if ans == nil || len(ans.Records) == 0 {
		f.down(probe.RecordMissing, "%s has no PTR record: ask whoever holds the address (the provider) to set one naming the mail server, or receivers refuse its mail.", a)
		return "", nil
	}
	var ptrs []string
	for _, rr := range ans.Records {
		name := strings.ToLower(strings.TrimSuffix(rr.(*dns.PTR).Ptr, "."))
		ptrs = append(ptrs, name)
		back, err := c.Addrs(ctx, name)
		if err != nil && !dnsq.NotFound(err) {
			return "", err
		}
		for _, b := range back {
			if b == a.Unmap() {
				return name, nil
			}
		}
	}
	f.down(probe.PolicyMismatch, "The PTR record of %s names %s, which does not resolve back to it: add the address to that name's A/AAAA records, or receivers treat the PTR as forged.", a, strings.Join(ptrs, ", "))
	return "", nil
}
