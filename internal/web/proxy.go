package web

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Behind a reverse proxy every request comes from the proxy's address, over
// the proxy's scheme, and the client's own address, scheme and host are in
// headers anyone can send. Proxies are the peers (--trusted-proxies) whose
// headers are believed; Client is the one place that decides what a
// request says of its client, for the login limits, Secure cookies, the
// same-origin check and logs (and for any later mode that trusts a header
// the proxy sets, such as the user it authenticated).

// Proxies are the trusted reverse proxies' addresses. The zero value trusts
// none: every request's client is its peer.
type Proxies []netip.Prefix

// ParseProxies reads --trusted-proxies: CIDRs and addresses,
// comma-separated.
func ParseProxies(list string) (Proxies, error) {
	var p Proxies
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if pr, err := netip.ParsePrefix(item); err == nil {
			p = append(p, pr.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is neither an address nor a CIDR (such as 10.0.0.5 or 10.0.0.0/24)", item)
		}
		a = a.Unmap()
		p = append(p, netip.PrefixFrom(a, a.BitLen()))
	}
	return p, nil
}

func (p Proxies) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, pr := range p {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

// Client is what a request says of its client.
type Client struct {
	// Addr is the client's address: the peer's, or, through trusted
	// proxies, the rightmost hop of the forwarding chain that is not a
	// trusted proxy (hops left of it could be made up by the client).
	Addr string
	// Scheme ("http" or "https") and Host are what the client asked for:
	// the connection's, or what the nearest trusted proxy forwarded.
	Scheme, Host string
	// Proxied is true when the request came from a trusted proxy and its
	// forwarding headers were used.
	Proxied bool
}

// maxHops bounds the forwarding chain read (the server bounds the
// headers' size already).
const maxHops = 32

// Client says who made r: the peer itself unless the peer is a trusted
// proxy, in which case RFC 7239 Forwarded (if present) or else
// X-Forwarded-For, -Proto and -Host.
func (p Proxies) Client(r *http.Request) Client {
	c := Client{Addr: peerAddr(r.RemoteAddr), Scheme: "http", Host: r.Host}
	if r.TLS != nil {
		c.Scheme = "https"
	}
	peer, err := netip.ParseAddr(c.Addr)
	if err != nil || !p.trusts(peer) {
		return c
	}
	var hops []hop
	if fw := r.Header.Values("Forwarded"); len(fw) > 0 {
		hops = parseForwarded(fw)
	} else {
		for _, a := range splitList(r.Header.Values("X-Forwarded-For")) {
			hops = append(hops, hop{addr: a})
		}
		if len(hops) > 0 { // the proxy's own view, set (or appended last) by it
			hops[len(hops)-1].proto = last(splitList(r.Header.Values("X-Forwarded-Proto")))
			hops[len(hops)-1].host = last(splitList(r.Header.Values("X-Forwarded-Host")))
		}
	}
	if len(hops) == 0 {
		return c
	}
	// From the right: the first hop that is not a trusted proxy is the
	// client (or the leftmost, if all are proxies).
	i := len(hops) - 1
	for ; i > 0; i-- {
		a, err := netip.ParseAddr(hops[i].addr)
		if err != nil || !p.trusts(a) {
			break
		}
	}
	a, err := netip.ParseAddr(hops[i].addr)
	if err != nil {
		return c // "unknown", an obfuscated name, junk: keep the peer
	}
	c.Addr, c.Proxied = a.Unmap().String(), true
	// Scheme and host: those the proxy nearest the client saw, in the
	// same element for Forwarded, the proxy's own headers otherwise.
	proto, host := hops[i].proto, hops[i].host
	if proto == "" {
		proto = hops[len(hops)-1].proto
	}
	if host == "" {
		host = hops[len(hops)-1].host
	}
	if proto == "http" || proto == "https" {
		c.Scheme = proto
	}
	if validHost(host) {
		c.Host = host
	}
	return c
}

// hop is one element of a forwarding chain.
type hop struct{ addr, proto, host string }

// parseForwarded reads RFC 7239 Forwarded header fields: elements split at
// commas, pairs at semicolons, values maybe quoted; an address in
// brackets (IPv6) or with a port loses them.
func parseForwarded(fields []string) []hop {
	var hops []hop
	for _, f := range fields {
		for _, el := range strings.Split(f, ",") {
			if len(hops) == maxHops {
				hops = hops[1:] // the rightmost hops are the ones that count
			}
			var h hop
			for _, pair := range strings.Split(el, ";") {
				k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if !ok {
					continue
				}
				v = strings.Trim(v, `"`)
				switch strings.ToLower(k) {
				case "for":
					h.addr = peerAddr(v)
				case "proto":
					h.proto = strings.ToLower(v)
				case "host":
					h.host = v
				}
			}
			hops = append(hops, h)
		}
	}
	return hops
}

// peerAddr is an address without its port or brackets.
func peerAddr(s string) string {
	if host, _, err := net.SplitHostPort(s); err == nil {
		return host
	}
	return strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
}

func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
	}
	if len(out) > maxHops {
		out = out[len(out)-maxHops:]
	}
	return out
}

func last(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[len(list)-1]
}

// validHost accepts a host or host:port fit for comparing with an Origin.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, r := range h {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`/\?#@"`, r) {
			return false
		}
	}
	return true
}
