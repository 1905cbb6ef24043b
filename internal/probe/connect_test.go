package probe

import (
	"net"
	"testing"
)

// addrConn is a connection that only knows its peer's address.
type addrConn struct {
	net.Conn
	remote net.Addr
}

func (c addrConn) RemoteAddr() net.Addr { return c.remote }

// TestConnectedTo: the transcript's "connected to" note reads as
// net.TCPAddr's String writes the address, IPv4, IPv6 and a zone alike,
// and costs one allocation.
func TestConnectedTo(t *testing.T) {
	for _, a := range []*net.TCPAddr{
		{IP: net.IPv4(192, 0, 2, 1).To4(), Port: 25},
		{IP: net.IPv4(192, 0, 2, 1), Port: 465}, // 16-byte form
		{IP: net.ParseIP("2001:db8::1"), Port: 587},
		{IP: net.ParseIP("fe80::1"), Zone: "eth0", Port: 25},
	} {
		if got, want := connectedTo(addrConn{remote: a}), "connected to "+a.String(); got != want {
			t.Errorf("connectedTo(%v) = %q, want %q", a, got, want)
		}
	}
	var c net.Conn = addrConn{remote: &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 587}}
	if n := testing.AllocsPerRun(100, func() { connectedTo(c) }); n > 1 {
		t.Errorf("the note took %v allocations, want 1", n)
	}
}
