package wire

import (
	"context"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/testutil/blackhole"
)

// TestDialKeepAlive: a connection that ends before a keep-alive could be
// sent has none; a longer one (a round trip's IDLE) and one without a
// deadline keep Go's default.
func TestDialKeepAlive(t *testing.T) {
	port := listenLoopback(t)
	for _, tt := range []struct {
		name    string
		timeout time.Duration // 0: no deadline
		want    bool
	}{
		{"a check's 10 s", 10 * time.Second, false},
		{"a round trip's 5 min", 5 * time.Minute, true},
		{"no deadline", 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			c, err := Dial(ctx, []netip.Addr{netip.MustParseAddr("127.0.0.1")}, port)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			rc, err := c.(*net.TCPConn).SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			var on int
			var serr error
			rc.Control(func(fd uintptr) { on, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE) })
			if serr != nil {
				t.Fatal(serr)
			}
			if (on != 0) != tt.want {
				t.Errorf("SO_KEEPALIVE = %d, want on: %v", on, tt.want)
			}
		})
	}
}

// TestDialBlackHoled: a name whose first address drops SYNs (a black-holed
// IPv6 route, or a dead IPv4 address) and whose second answers connects to
// the second well within the deadline, instead of spending it all on the
// first.
func TestDialBlackHoled(t *testing.T) {
	for _, tt := range []struct {
		name string
		dead string
	}{
		{"IPv6 black-holed, IPv4 live", "::1"},
		{"two IPv4 addresses, the first black-holed", "127.0.0.2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			port := listenLoopback(t)
			dead := netip.MustParseAddr(tt.dead)
			blackhole.Listen(t, dead, port)

			const timeout = 4 * time.Second
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			start := time.Now()
			c, err := Dial(ctx, []netip.Addr{dead, netip.MustParseAddr("127.0.0.1")}, port)
			took := time.Since(start)
			if err != nil {
				t.Fatalf("dial after %v: %v", took, err)
			}
			defer c.Close()
			if got := c.RemoteAddr().(*net.TCPAddr).IP.String(); got != "127.0.0.1" {
				t.Errorf("connected to %s", got)
			}
			if took > timeout/2 {
				t.Errorf("took %v of a %v budget", took, timeout)
			}
		})
	}
}

// listenLoopback accepts (and hangs up) on a free 127.0.0.1 port until the
// test ends.
func listenLoopback(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}
