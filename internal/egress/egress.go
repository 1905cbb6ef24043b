// Package egress is the operator's policy on where targets configured over
// the network may lead: a monitor, a device address or an e-mail relay
// saved through the JSON API or the web UI, and every /probe. A bearer
// token must not turn the daemon into a scanner of its own host or of the
// cloud metadata service: without a list (serve --allow-targets) anything
// but loopback, link-local, unspecified and multicast addresses is allowed;
// with one, only what it lists. Configuration applied on the host (mailmon
// apply -f) is the operator's and is not held to it.
//
// The policy is checked twice: when a target is saved (a field error that
// names the flag) and on the address actually dialled (Policy.Guard, for a
// net.Dialer's ControlContext), since a name may resolve elsewhere at test
// time than at save time (DNS rebinding).
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Flag is the serve flag that sets the policy, named in every refusal.
const Flag = "--allow-targets"

// ErrRefused is what a refused dial wraps.
var ErrRefused = errors.New("not allowed for a target configured over the network")

// Policy is the set of targets allowed. The zero Policy (or nil) is the
// default: anything but special addresses (Special).
type Policy struct {
	prefixes []netip.Prefix
	names    []string // lower case, without a trailing dot; "*.example.com" matches names below example.com
	only     bool     // a list was given: only what it lists
}

// Default is the policy without --allow-targets.
func Default() *Policy { return &Policy{} }

// Parse reads the items of --allow-targets: CIDRs (10.0.0.0/8), addresses
// (192.0.2.7) and host names (mail.example.com, *.example.com). An empty
// list is the default policy.
func Parse(items []string) (*Policy, error) {
	p := &Policy{}
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" {
			continue
		}
		p.only = true
		if pre, err := netip.ParsePrefix(it); err == nil {
			p.prefixes = append(p.prefixes, pre.Masked())
			continue
		}
		if a, err := netip.ParseAddr(it); err == nil {
			a = a.Unmap()
			p.prefixes = append(p.prefixes, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		name := strings.TrimSuffix(strings.ToLower(it), ".")
		if !validPattern(name) {
			return nil, fmt.Errorf("%s: %q is not a CIDR (10.0.0.0/8), an address (192.0.2.7) or a host name (mail.example.com, *.example.com)", Flag, it)
		}
		p.names = append(p.names, name)
	}
	return p, nil
}

// AllowLoopback returns a copy of p that also allows loopback addresses
// (serve --demo: its mail server listens on 127.0.0.1).
func (p *Policy) AllowLoopback() *Policy {
	q := p.clone()
	q.prefixes = append(q.prefixes, netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"))
	return q
}

func (p *Policy) clone() *Policy {
	if p == nil {
		return &Policy{}
	}
	return &Policy{prefixes: append([]netip.Prefix(nil), p.prefixes...), names: append([]string(nil), p.names...), only: p.only}
}

// String describes the policy for a log line.
func (p *Policy) String() string {
	if p == nil {
		p = &Policy{}
	}
	var items []string
	for _, pre := range p.prefixes {
		items = append(items, pre.String())
	}
	items = append(items, p.names...)
	if !p.only {
		s := "anything but loopback, link-local, unspecified and multicast addresses"
		if len(items) > 0 {
			s += ", and " + strings.Join(items, ", ")
		}
		return s
	}
	return "only " + strings.Join(items, ", ")
}

func validPattern(name string) bool {
	name = strings.TrimPrefix(name, "*.")
	if name == "" || len(name) > 253 {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// Special says why an address is refused by default ("" when it is not):
// the daemon's own host, its link (the cloud metadata service at
// 169.254.169.254 among it), the unspecified address (which reaches the
// local host) and multicast.
func Special(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return "a loopback address"
	case a.IsLinkLocalUnicast():
		return "a link-local address"
	case a.IsUnspecified(), a.Is4() && a.As4()[0] == 0:
		return "an unspecified address" // 0.0.0.0/8 reaches this host
	case a.IsMulticast():
		return "a multicast address"
	}
	return ""
}

// matchName reports whether a host name is listed by name.
func (p *Policy) matchName(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, n := range p.names {
		if suffix, ok := strings.CutPrefix(n, "*"); ok {
			if strings.HasSuffix(host, suffix) && len(host) > len(suffix) {
				return true
			}
		} else if host == n {
			return true
		}
	}
	return false
}

// Allow decides whether a, an address of host (the name the target was
// configured with, or the address itself), may be dialled; the error says
// why not and what would allow it.
func (p *Policy) Allow(host string, a netip.Addr) error {
	if p == nil {
		p = &Policy{}
	}
	a = a.Unmap()
	for _, pre := range p.prefixes {
		if pre.Contains(a) {
			return nil
		}
	}
	special := Special(a)
	_, literal := parseAddr(host)
	// A name listed by name is trusted to resolve to what it should, but
	// not to a special address: that is DNS rebinding unless a CIDR lists it.
	byName := !literal && p.matchName(host)
	switch {
	case special != "":
		return &RefusedError{Host: host, Addr: a, Why: special}
	case !p.only || byName:
		return nil
	}
	return &RefusedError{Host: host, Addr: a, Why: "not in the list", Listed: true}
}

// RefusedError is a target the policy does not allow.
type RefusedError struct {
	Host   string
	Addr   netip.Addr
	Why    string // "a loopback address", "not in the list"
	Listed bool   // refused because a list was given and this is not in it
}

func (e *RefusedError) Error() string {
	what := e.Host
	if e.Addr.IsValid() && e.Host != e.Addr.String() {
		what = fmt.Sprintf("%s (%s)", e.Host, e.Addr)
	}
	if what == "" {
		what = e.Addr.String()
	}
	if e.Listed {
		return fmt.Sprintf("%s is not in serve %s, which lists every target that may be configured over the network", what, Flag)
	}
	return fmt.Sprintf("%s is %s, which a target configured over the network may not reach unless serve %s lists it", what, e.Why, Flag)
}

func (e *RefusedError) Unwrap() error { return ErrRefused }

func parseAddr(host string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// Guard returns the dial-time check of host's addresses, for
// wire.DialChecked; nil on a nil policy (an operator's target, not limited).
func (p *Policy) Guard(host string) func(netip.Addr) error {
	if p == nil {
		return nil
	}
	return func(a netip.Addr) error { return p.Allow(host, a) }
}

// lookupTimeout bounds the name lookup of a save-time check.
const lookupTimeout = 3 * time.Second

// CheckHost is the save-time check of a target host: an address is
// checked as it is; a name is allowed when it resolves to at least one
// allowed address (a dial tries the others in turn and refuses each), or,
// with a list, when it is listed by name. A name that does not resolve is
// accepted without a list (its test will say it does not resolve, and the
// dial-time check stands) and refused with one. r nil is the system's
// resolver.
func (p *Policy) CheckHost(ctx context.Context, r *net.Resolver, host string) error {
	if p == nil {
		p = &Policy{}
	}
	if a, ok := parseAddr(host); ok {
		return p.Allow(host, a)
	}
	if p.only && p.matchName(host) {
		return nil // listed by name; each address is checked when dialled
	}
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		if p.only {
			return &RefusedError{Host: host, Why: "not in the list", Listed: true}
		}
		return nil
	}
	var first error
	for _, a := range addrs {
		err := p.Allow(host, a)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}
