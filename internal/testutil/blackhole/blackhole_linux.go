// Package blackhole makes a loopback address and port that drops the SYNs
// sent to it, as a route that black-holes packets does: a connection
// attempt there neither succeeds nor fails until its deadline.
package blackhole

import (
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Listen makes ip:port (ip a loopback address) drop every further SYN until
// the test ends: a listener with an accept backlog of zero whose one queued
// connection is never accepted (Linux then drops SYNs rather than refuse
// them). It fails the test if the port is taken or the SYNs still pass.
func Listen(t testing.TB, ip netip.Addr, port int) {
	t.Helper()
	family, sa := syscall.AF_INET6, syscall.Sockaddr(&syscall.SockaddrInet6{Port: port, Addr: ip.As16()})
	if ip.Is4() {
		family, sa = syscall.AF_INET, &syscall.SockaddrInet4{Port: port, Addr: ip.As4()}
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, sa); err != nil {
		t.Fatalf("black hole on %s port %d: %v", ip, port, err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort(ip.String(), strconv.Itoa(port))
	for range 4 {
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return // the backlog is full: SYNs are dropped
			}
			t.Fatalf("black hole on %s: %v", addr, err)
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Fatalf("black hole on %s: connections are still accepted", addr)
}
