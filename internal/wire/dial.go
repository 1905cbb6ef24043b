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

// Dial connects to port on the first of addrs that answers.
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
	var errs []error
	for _, a := range addrs {
		addr := net.JoinHostPort(a.String(), strconv.Itoa(port))
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 0 {
		return nil, &DialError{Err: errors.New("no address to connect to")}
	}
	return nil, &DialError{Addr: net.JoinHostPort(addrs[0].String(), strconv.Itoa(port)), Err: errors.Join(errs...)}
}
