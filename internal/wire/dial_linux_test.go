package wire

import (
	"context"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// TestDialKeepAlive: a connection that ends before a keep-alive could be
// sent has none; a longer one (a round trip's IDLE) and one without a
// deadline keep Go's default.
func TestDialKeepAlive(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
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
