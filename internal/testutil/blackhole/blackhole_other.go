//go:build !linux

package blackhole

import (
	"net/netip"
	"testing"
)

// Listen needs Linux, which drops SYNs to a full accept backlog.
func Listen(t testing.TB, ip netip.Addr, port int) {
	t.Helper()
	t.Skip("black-holing a loopback address needs Linux")
}
