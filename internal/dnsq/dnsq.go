// Package dnsq is mailmon's DNS client for the domain-health monitors:
// one named resolver (never a silent fallback to another), every lookup
// bounded by the caller's context, answers capped in size and count, the
// AD bit of a validating resolver read, and a bogus answer told from a
// failing server. It speaks DNS with github.com/miekg/dns, which the
// module already uses, rather than net.Resolver, which hides the AD bit,
// the response code and the resolver's address.
package dnsq

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Caps on what one answer may hold.
const (
	UDPSize    = 1232 // the EDNS buffer advertised (DNS flag day 2020)
	MaxRecords = 256  // records in the answer section
	MaxTXT     = 8192 // bytes of one name's TXT strings together
)

// ResolvConf is where the system's resolver is read when none is named.
const ResolvConf = "/etc/resolv.conf"

// ErrNoResolver is a lookup without a resolver where none may be guessed:
// in a test binary, which must name the resolver it started.
var ErrNoResolver = errors.New("no resolver set: a test names the resolver it started (realdns)")

// Client asks one resolver.
type Client struct {
	Server string // "IP:PORT"
	// Guard, when set, checks the resolver's address before each query
	// (the egress policy of a target configured over the network).
	Guard func(netip.Addr) error
}

// New returns a client of server ("IP:PORT", or an IP for port 53); ""
// is the first nameserver of /etc/resolv.conf, except in a test binary,
// where it is ErrNoResolver: no test reaches the system's resolver by
// leaving the setting out.
func New(server string) (*Client, error) {
	if server == "" {
		if testing.Testing() {
			return nil, ErrNoResolver
		}
		s, err := System(ResolvConf)
		if err != nil {
			return nil, err
		}
		server = s
	}
	s, err := ParseServer(server)
	if err != nil {
		return nil, err
	}
	return &Client{Server: s}, nil
}

// ParseServer checks a resolver's address: an IP address with an optional
// port (53 by default); no host name, since a name would need a resolver.
func ParseServer(s string) (string, error) {
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return netip.AddrPortFrom(a, 53).String(), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Port() == 0 {
		return "", fmt.Errorf("%q is not a resolver address: give IP or IP:PORT, e.g. 127.0.0.1:53 or [::1]:5353", s)
	}
	return ap.String(), nil
}

// System is the first nameserver of a resolv.conf file.
func System(path string) (string, error) {
	cc, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the system's resolver: %w; set resolver: IP:PORT", err)
	}
	if len(cc.Servers) == 0 {
		return "", fmt.Errorf("%s names no nameserver; set resolver: IP:PORT", path)
	}
	return net.JoinHostPort(cc.Servers[0], cc.Port), nil
}

// Answer is a resolver's answer.
type Answer struct {
	Records []dns.RR // of the type asked, CNAMEs followed by the resolver
	AD      bool     // the resolver validated it (DNSSEC)
}

// RcodeError is a resolver's answer other than NOERROR.
type RcodeError struct {
	Name  string
	Type  uint16
	Rcode int
}

func (e *RcodeError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Name, dns.TypeToString[e.Type], dns.RcodeToString[e.Rcode])
}

// NotFound reports whether the name does not exist (NXDOMAIN).
func NotFound(err error) bool {
	var re *RcodeError
	return errors.As(err, &re) && re.Rcode == dns.RcodeNameError
}

// BogusError is an answer the validating resolver refused as forged or
// broken: it fails (SERVFAIL) but answers with checking disabled.
type BogusError struct {
	Name string
	Type uint16
}

func (e *BogusError) Error() string {
	return fmt.Sprintf("%s %s: the DNSSEC signatures do not validate (bogus)", e.Name, dns.TypeToString[e.Type])
}

// TooBigError is an answer over the caps.
type TooBigError struct{ What string }

func (e *TooBigError) Error() string { return "the answer is too large: " + e.What }

// Query asks for name's records of type qtype. NXDOMAIN and other
// failures are an *RcodeError, a bogus answer a *BogusError; no records
// (NODATA) is an empty Answer.
func (c *Client) Query(ctx context.Context, name string, qtype uint16) (*Answer, error) {
	name = dns.Fqdn(name)
	if _, ok := dns.IsDomainName(name); !ok {
		return nil, fmt.Errorf("%q is not a domain name", name)
	}
	r, err := c.exchange(ctx, name, qtype, false)
	if err != nil {
		return nil, err
	}
	if r.Rcode == dns.RcodeServerFailure {
		// Bogus or broken? A validating resolver answers a bogus name when
		// asked not to check.
		if cd, err := c.exchange(ctx, name, qtype, true); err == nil && cd.Rcode == dns.RcodeSuccess {
			return nil, &BogusError{Name: name, Type: qtype}
		}
	}
	if r.Rcode != dns.RcodeSuccess {
		return nil, &RcodeError{Name: name, Type: qtype, Rcode: r.Rcode}
	}
	if len(r.Answer) > MaxRecords {
		return nil, &TooBigError{fmt.Sprintf("%d records for %s (at most %d)", len(r.Answer), name, MaxRecords)}
	}
	a := &Answer{AD: r.AuthenticatedData}
	for _, rr := range r.Answer {
		if rr.Header().Rrtype == qtype {
			a.Records = append(a.Records, rr)
		}
	}
	return a, nil
}

func (c *Client) exchange(ctx context.Context, name string, qtype uint16, cd bool) (*dns.Msg, error) {
	if c == nil || c.Server == "" {
		return nil, ErrNoResolver
	}
	if c.Guard != nil {
		ap, err := netip.ParseAddrPort(c.Server)
		if err != nil {
			return nil, err
		}
		if err := c.Guard(ap.Addr()); err != nil {
			return nil, err
		}
	}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = true
	m.CheckingDisabled = cd
	m.SetEdns0(UDPSize, true) // DO: ask for the AD bit
	cl := &dns.Client{UDPSize: UDPSize, Timeout: remaining(ctx)}
	r, _, err := cl.ExchangeContext(ctx, m, c.Server)
	if err == nil && r.Truncated {
		cl.Net = "tcp" // a TCP message is at most 64 KiB by its length prefix
		r, _, err = cl.ExchangeContext(ctx, m, c.Server)
	}
	if err != nil {
		return nil, fmt.Errorf("asking %s for %s %s: %w", c.Server, strings.TrimSuffix(name, "."), dns.TypeToString[qtype], err)
	}
	if r.Id != m.Id || len(r.Question) != 1 || !strings.EqualFold(r.Question[0].Name, name) {
		return nil, fmt.Errorf("asking %s for %s: the answer is for another question", c.Server, name)
	}
	return r, nil
}

// remaining is the time left to ctx's deadline, for the library's own
// timeouts (it would otherwise wait 2 s per phase regardless).
func remaining(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), time.Millisecond)
	}
	return 10 * time.Second
}

// TXT returns name's TXT records, each one string (its strings joined, as
// RFC 7208 §3.3 reads them); NXDOMAIN is no records.
func (c *Client) TXT(ctx context.Context, name string) ([]string, error) {
	a, err := c.Query(ctx, name, dns.TypeTXT)
	if NotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	n := 0
	for _, rr := range a.Records {
		s := strings.Join(rr.(*dns.TXT).Txt, "")
		n += len(s)
		if n > MaxTXT {
			return nil, &TooBigError{fmt.Sprintf("TXT of %s over %d bytes", name, MaxTXT)}
		}
		out = append(out, s)
	}
	return out, nil
}

// Addrs returns host's IPv4 and IPv6 addresses, or host itself when it is
// an address.
func (c *Client) Addrs(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	var out []netip.Addr
	var firstErr error
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		a, err := c.Query(ctx, host, t)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		for _, rr := range a.Records {
			switch r := rr.(type) {
			case *dns.A:
				if ip, ok := netip.AddrFromSlice(r.A.To4()); ok {
					out = append(out, ip)
				}
			case *dns.AAAA:
				if ip, ok := netip.AddrFromSlice(r.AAAA); ok {
					out = append(out, ip)
				}
			}
		}
	}
	if len(out) == 0 {
		if firstErr == nil {
			firstErr = &RcodeError{Name: dns.Fqdn(host), Type: dns.TypeA, Rcode: dns.RcodeNameError}
		}
		return nil, firstErr
	}
	return out, nil
}

// MX returns domain's mail exchangers, by preference.
func (c *Client) MX(ctx context.Context, domain string) ([]string, error) {
	a, err := c.Query(ctx, domain, dns.TypeMX)
	if err != nil {
		return nil, err
	}
	var mx []*dns.MX
	for _, rr := range a.Records {
		mx = append(mx, rr.(*dns.MX))
	}
	slices.SortStableFunc(mx, func(a, b *dns.MX) int { return int(a.Preference) - int(b.Preference) })
	out := make([]string, 0, len(mx))
	for _, m := range mx {
		out = append(out, strings.TrimSuffix(m.Mx, "."))
	}
	return out, nil
}

// ReverseName is the PTR/DNSBL name of an address: dotted reversed
// octets for IPv4, reversed nibbles for IPv6, without a suffix.
func ReverseName(a netip.Addr) string {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		return fmt.Sprintf("%d.%d.%d.%d", b[3], b[2], b[1], b[0])
	}
	b := a.As16()
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 63)
	for i := len(b) - 1; i >= 0; i-- {
		if len(out) > 0 {
			out = append(out, '.')
		}
		out = append(out, hex[b[i]&0xf], '.', hex[b[i]>>4])
	}
	return string(out)
}
