package wire

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// Resolve returns the addresses of host. An IP literal is returned as it is,
// without a DNS query; looked reports whether DNS was asked.
func Resolve(ctx context.Context, r *net.Resolver, host string) (addrs []netip.Addr, looked bool, err error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.Unmap()}, false, nil
	}
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err = r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, true, &DialError{Addr: host, Err: err}
	}
	if len(addrs) == 0 {
		return nil, true, &DialError{Addr: host, Err: &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}}
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, true, nil
}

// keepAliveIdle is Go's default idle time before the first TCP keep-alive.
const keepAliveIdle = 15 * time.Second

// keepAlive is the Dialer's KeepAlive for a connection that ends with ctx:
// off (-1) when ctx ends before a keep-alive could be sent, as for nearly
// every check, since enabling it costs four setsockopt calls; Go's default
// (0) for longer ones, such as a round trip's IMAP IDLE, so that a NAT or
// firewall between does not forget the idle connection.
func keepAlive(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= keepAliveIdle {
		return -1
	}
	return 0
}

// attemptDelay is how long one connection attempt runs alone before the
// next address is tried beside it: RFC 8305's recommended Connection
// Attempt Delay.
const attemptDelay = 250 * time.Millisecond

// dialFunc is net.Dialer.DialContext's shape; tests replace it.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Dial connects to port on addrs with Happy Eyeballs (RFC 8305): the
// addresses are tried in the order of interleave, each attempt started
// attemptDelay after the one before (at once when that one failed), and the
// first connection wins; the others are cancelled, or closed if they
// connected too. A black-holed address (an IPv6 route that drops packets)
// so costs 250 ms, not the test's whole deadline.
//
// net.Dialer does Happy Eyeballs only for a name it resolves itself (its
// FallbackDelay), which would fold the "dns" phase into "connect" and
// still try the addresses of one family one after the other.
func Dial(ctx context.Context, addrs []netip.Addr, port int) (net.Conn, error) {
	return DialChecked(ctx, addrs, port, nil)
}

// DialChecked is Dial with check (nil: none) deciding, on the address
// actually dialled, whether it may be: what a name resolved to at save time
// proves nothing about what it resolves to now.
func DialChecked(ctx context.Context, addrs []netip.Addr, port int, check func(netip.Addr) error) (net.Conn, error) {
	d := net.Dialer{KeepAlive: keepAlive(ctx)}
	if check != nil {
		d.ControlContext = func(_ context.Context, _, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return err
			}
			return check(ap.Addr())
		}
	}
	return dialEyeballs(ctx, addrs, port, attemptDelay, d.DialContext)
}

func dialEyeballs(ctx context.Context, addrs []netip.Addr, port int, delay time.Duration, dial dialFunc) (net.Conn, error) {
	if len(addrs) == 0 {
		return nil, &DialError{Err: errors.New("no address to connect to")}
	}
	if len(addrs) == 1 { // the usual case: no goroutine, no timer
		// One string, as net.JoinHostPort makes it ("[::1]:25").
		addr := netip.AddrPortFrom(addrs[0], uint16(port)).String()
		c, err := dial(ctx, "tcp", addr)
		if err != nil {
			return nil, &DialError{Addr: addr, Err: err}
		}
		return c, nil
	}
	p := strconv.Itoa(port)
	order := interleave(addrs)
	c, errs := race(ctx, order, p, delay, dial)
	if c != nil {
		return c, nil
	}
	return nil, &DialError{Addr: net.JoinHostPort(order[0].String(), p), Err: errors.Join(errs...)}
}

// race runs the connection attempts of Dial and returns the first
// connection, or every attempt's error. It returns only when no attempt is
// left running.
func race(ctx context.Context, addrs []netip.Addr, port string, delay time.Duration, dial dialFunc) (net.Conn, []error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type attempt struct {
		c   net.Conn
		err error
	}
	results := make(chan attempt, len(addrs)) // no attempt ever blocks on it
	timer := time.NewTimer(delay)
	defer timer.Stop()
	next, running := 0, 0
	start := func() {
		addr := net.JoinHostPort(addrs[next].String(), port)
		next++
		running++
		go func() {
			c, err := dial(ctx, "tcp", addr)
			results <- attempt{c, err}
		}()
		timer.Reset(delay)
	}
	var errs []error
	start()
	for running > 0 {
		select {
		case <-timer.C:
		case r := <-results:
			running--
			if r.err == nil {
				cancel()
				for ; running > 0; running-- {
					if late := <-results; late.c != nil {
						late.c.Close()
					}
				}
				return r.c, nil
			}
			errs = append(errs, r.err)
		}
		if next < len(addrs) && ctx.Err() == nil {
			start()
		}
	}
	return nil, errs
}

// interleave orders addresses as RFC 8305 §4 does: the family of the first
// (the resolver's preference, RFC 6724) first, then alternating families,
// each family in its own order.
func interleave(addrs []netip.Addr) []netip.Addr {
	first := addrs[0].Is4()
	var same, other []netip.Addr
	for _, a := range addrs {
		if a.Is4() == first {
			same = append(same, a)
		} else {
			other = append(other, a)
		}
	}
	out := make([]netip.Addr, 0, len(addrs))
	for i := range max(len(same), len(other)) {
		if i < len(same) {
			out = append(out, same[i])
		}
		if i < len(other) {
			out = append(out, other[i])
		}
	}
	return out
}
