package discover

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
)

// MX is one mail exchanger of a domain.
type MX struct {
	Host string
	Pref uint16
}

// ErrNullMX reports a domain that says it accepts no mail (RFC 7505).
var ErrNullMX = errors.New("the domain accepts no mail (null MX)")

// errNoMX: the name has no MX records; it is then taken as a host.
var errNoMX = errors.New("no MX records")

// LookupMX returns a domain's mail exchangers in preference order (the
// resolver shuffles those of equal preference, as RFC 5321 §5.1 asks).
func LookupMX(ctx context.Context, r *net.Resolver, domain string) ([]MX, error) {
	if r == nil {
		r = net.DefaultResolver
	}
	recs, err := r.LookupMX(ctx, domain)
	if err != nil {
		var de *net.DNSError
		if errors.As(err, &de) && de.IsNotFound {
			return nil, errNoMX
		}
		if len(recs) == 0 {
			return nil, fmt.Errorf("MX lookup of %s: %w", domain, err)
		}
		// Some records were malformed and left out: use the others.
	}
	if len(recs) == 0 {
		return nil, errNoMX
	}
	out := make([]MX, 0, len(recs))
	for _, m := range recs {
		host := strings.TrimSuffix(m.Host, ".")
		if host == "" {
			if len(recs) == 1 {
				return nil, ErrNullMX
			}
			continue
		}
		out = append(out, MX{Host: host, Pref: m.Pref})
	}
	return out, nil
}

// NewResolver returns a resolver that asks the DNS server at addr
// (host:port, or a host for port 53) instead of the system's.
func NewResolver(addr string) (*net.Resolver, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(strings.Trim(addr, "[]"), "53")
	}
	host, _, _ := net.SplitHostPort(addr)
	if net.ParseIP(host) == nil {
		return nil, fmt.Errorf("--resolver %q: give the DNS server's IP address (and port)", addr)
	}
	var d net.Dialer
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}, nil
}
