package egress

import (
	"context"
	"net"
	"strconv"

	"github.com/mailmon/mailmon/internal/wire"
)

// DialContext returns a dial function for an http.Transport whose
// connections go only where p allows: the host is resolved with r (nil:
// the system's resolver) and each address is checked as it is dialled
// (wire.DialChecked), so that a name that resolves elsewhere now than when
// it was saved is refused on what it resolves to now. A nil p dials
// without a check (an operator's target).
func (p *Policy) DialContext(r *net.Resolver) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(port)
		if err != nil {
			return nil, &net.AddrError{Err: "bad port", Addr: addr}
		}
		addrs, _, err := wire.Resolve(ctx, r, host)
		if err != nil {
			return nil, err
		}
		return wire.DialChecked(ctx, addrs, n, p.Guard(host))
	}
}
