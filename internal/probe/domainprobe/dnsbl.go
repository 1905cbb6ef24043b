package domainprobe

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/mailmon/mailmon/internal/dnsq"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/wire"
)

// DNSBLName is the blocklist monitor's type.
const DNSBLName = "dnsbl"

// DNSBLKind is the blocklist monitor: an address (or a host's addresses)
// against IP blocklists, and with domain: zones, a domain against domain
// lists.
func DNSBLKind() probe.Kind {
	return probe.Kind{
		Name: DNSBLName, Title: "Blocklists", Seed: "Blocklist monitor",
		Summary: "Looks up a sending address, a host's addresses or a domain on DNS blocklists.",
		Fields:  []string{"resolver", "zones", "domain"},
		Check:   checkDNSBL,
		Probe:   DNSBL,
	}
}

// Zone is a blocklist zone and what its answers mean.
type Zone struct {
	Name   string
	Domain bool              // a domain list (DBL style): the domain is looked up, not its addresses
	Codes  map[string]string // answer → meaning; an answer not here is "listed"
	// Refusals are answers that are not listings but a refusal to answer:
	// the query came through a public resolver, the zone is misspelt, the
	// quota is spent.
	Refusals map[string]string
	Spamhaus bool // a DQS key moves it to KEY.NAME.dq.spamhaus.net
}

var spamhausRefusals = map[string]string{
	"127.255.255.252": "the zone name is misspelt",
	"127.255.255.254": "the query came through a public or open resolver, which Spamhaus does not answer",
	"127.255.255.255": "the resolver exceeded the free use limit",
}

// DefaultZones are the zones a dnsbl monitor without zones: asks, each
// with the meaning of its answers (docs/domain-health.md lists them).
func DefaultZones() []Zone {
	return []Zone{
		{Name: "zen.spamhaus.org", Spamhaus: true, Refusals: spamhausRefusals, Codes: map[string]string{
			"127.0.0.2": "SBL: a known spam source or operation", "127.0.0.3": "SBL CSS: snowshoe spam",
			"127.0.0.4": "XBL: an exploited or infected host", "127.0.0.5": "XBL: an exploited or infected host",
			"127.0.0.6": "XBL: an exploited or infected host", "127.0.0.7": "XBL: an exploited or infected host",
			"127.0.0.9":  "SBL DROP: a hijacked netblock",
			"127.0.0.10": "PBL (ISP): an end-user address that should not send directly",
			"127.0.0.11": "PBL (Spamhaus): an end-user address that should not send directly",
		}},
		{Name: "bl.spamcop.net", Codes: map[string]string{"127.0.0.2": "reported as a spam source by SpamCop users"}},
		{Name: "b.barracudacentral.org", Codes: map[string]string{"127.0.0.2": "Barracuda reputation: poor"}},
		{Name: "psbl.surriel.com", Codes: map[string]string{"127.0.0.2": "sent to the PSBL spam traps"}},
		{Name: "dbl.spamhaus.org", Domain: true, Spamhaus: true, Refusals: spamhausRefusals, Codes: map[string]string{
			"127.0.1.2": "a spam domain", "127.0.1.4": "a phishing domain", "127.0.1.5": "a malware domain",
			"127.0.1.6": "a botnet command-and-control domain", "127.0.1.102": "an abused legitimate spam domain",
			"127.0.1.103": "an abused legitimate spammed redirector domain", "127.0.1.104": "an abused legitimate phishing domain",
			"127.0.1.105": "an abused legitimate malware domain", "127.0.1.106": "an abused legitimate botnet C&C domain",
		}},
	}
}

// zones turns the zones: setting into zones: a known zone keeps its
// meanings, "domain:NAME" is a domain list, anything else an IP list.
func zones(names []string) []Zone {
	if len(names) == 0 {
		return DefaultZones()
	}
	known := map[string]Zone{}
	for _, z := range DefaultZones() {
		known[z.Name] = z
	}
	var out []Zone
	for _, n := range names {
		name, domain := strings.CutPrefix(strings.ToLower(strings.TrimSuffix(n, ".")), "domain:")
		z, ok := known[name]
		if !ok {
			z = Zone{Name: name, Domain: domain}
		}
		out = append(out, z)
	}
	return out
}

func checkDNSBL(c *probe.Config, bad func(field, format string, args ...any)) {
	checkResolver(c, bad)
	for i, z := range c.Zones {
		name := strings.TrimPrefix(z, "domain:")
		if _, ok := dns.IsDomainName(name); !ok || !strings.Contains(name, ".") {
			bad(fmt.Sprintf("zones[%d]", i), "%q is not a zone name, e.g. zen.spamhaus.org (a domain list: domain:dbl.spamhaus.org)", z)
		}
	}
	if c.DQSKey != "" {
		if msg := probe.CheckDQSKey(string(c.DQSKey)); msg != "" {
			bad("dqs_key", "%s", msg)
		}
	}
}

// query is the name to look up of subject in z.
func (z Zone) query(subject string, key probe.Password) string {
	zone := z.Name
	if z.Spamhaus && key != "" {
		zone = string(key) + "." + strings.TrimSuffix(zone, ".spamhaus.org") + ".dq.spamhaus.net"
	}
	return subject + "." + zone
}

// DNSBL is the blocklist monitor's test: each subject (the address, the
// host's addresses, or for domain lists the name) in each zone. A listing
// is Down (listed) with the zone's meaning and its TXT reason; a refusal
// answer is a Warn (lookup_refused) that says how to get answers.
func DNSBL(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
	c, err := client(cfg)
	if err != nil {
		return err
	}
	// What to look up: an address as it is; a name's addresses in the IP
	// lists and the name itself in the domain lists.
	var addrs []netip.Addr
	domain := ""
	if a, err := netip.ParseAddr(cfg.Host); err == nil {
		addrs = []netip.Addr{a.Unmap()}
	} else {
		domain = domainOf(cfg)
		domainLists := slices.ContainsFunc(zones(cfg.Zones), func(z Zone) bool { return z.Domain })
		if err := step(t, "resolve", func() error {
			addrs, err = c.Addrs(ctx, cfg.Host)
			if dnsq.NotFound(err) && domainLists {
				return nil // a domain without addresses still has its domain lists
			}
			return err
		}); err != nil {
			return err
		}
	}
	t.Detail("addresses", addrStrings(addrs))
	if cfg.Domain != "" {
		domain = domainOf(cfg) // the domain's lists, the host's addresses
	}
	var f findings
	var listed []string
	err = step(t, "lookup", func() error {
		for _, z := range zones(cfg.Zones) {
			var subjects []string
			switch {
			case z.Domain && domain != "":
				subjects = []string{domain}
			case z.Domain:
				continue // a domain list has nothing to say of an address
			default:
				for _, a := range addrs {
					subjects = append(subjects, dnsq.ReverseName(a))
				}
			}
			for _, s := range subjects {
				hit, err := lookupZone(ctx, c, z, s, cfg.DQSKey, &f)
				if err != nil {
					return err
				}
				if hit {
					listed = append(listed, z.Name)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	t.Detail("listed_on", listed)
	return f.result(t, "lookup")
}

// lookupZone looks subject up in z and adds what it finds; it reports
// whether subject is listed.
func lookupZone(ctx context.Context, c *dnsq.Client, z Zone, subject string, key probe.Password, f *findings) (bool, error) {
	name := z.query(subject, key)
	a, err := c.Query(ctx, name, dns.TypeA)
	if dnsq.NotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	who := strings.TrimSuffix(subject, "."+z.Name)
	if !z.Domain {
		who = unreverse(subject)
	}
	for _, rr := range a.Records {
		ip, _ := netip.AddrFromSlice(rr.(*dns.A).A.To4())
		code := ip.String()
		if why, ok := z.Refusals[code]; ok || !netip.MustParsePrefix("127.0.0.0/8").Contains(ip) || z.Refusals == nil && strings.HasPrefix(code, "127.255.255.") {
			if !ok {
				why = "the answer is not a listing code"
			}
			f.warn(probe.LookupRefused, "%s refused to answer for %s (%s: %s): use a resolver of your own that queries the zone directly (resolver:), or for Spamhaus a DQS key (dqs_key:).", z.Name, who, code, why)
			continue
		}
		meaning := z.Codes[code]
		if meaning == "" {
			meaning = "listed"
		}
		reason := ""
		if txt, err := c.TXT(ctx, name); err == nil && len(txt) > 0 {
			reason = "; the list says: " + wire.Truncate(wire.Sanitize(txt[0]), 200)
		}
		f.down(probe.Listed, "%s is listed on %s (%s: %s)%s — mail from it is likely refused: find and stop the cause, then ask the list to remove it.", who, z.Name, code, meaning, reason)
		return true, nil
	}
	return false, nil
}

// unreverse turns a reversed name back into the address it came from, for
// people.
func unreverse(s string) string {
	parts := strings.Split(s, ".")
	if len(parts) == 4 {
		return parts[3] + "." + parts[2] + "." + parts[1] + "." + parts[0]
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteString(parts[i])
		if i%4 == 0 && i > 0 {
			b.WriteByte(':')
		}
	}
	if a, err := netip.ParseAddr(b.String()); err == nil {
		return a.String()
	}
	return s
}

func addrStrings(as []netip.Addr) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.String())
	}
	return out
}
