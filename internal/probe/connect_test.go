package probe

import (
	"net"
	"testing"

	"github.com/mailmon/mailmon/internal/wire"
)

// addrConn is a connection that only knows its peer's address.
type addrConn struct {
	net.Conn
	remote net.Addr
}

func (c addrConn) RemoteAddr() net.Addr { return c.remote }

// TestNoteConnected: the transcript's "connected to" note reads as
// net.TCPAddr's String writes the address, IPv4, IPv6 and a zone alike,
// and costs one allocation, the line.
func TestNoteConnected(t *testing.T) {
	for _, a := range []*net.TCPAddr{
		{IP: net.IPv4(192, 0, 2, 1).To4(), Port: 25},
		{IP: net.IPv4(192, 0, 2, 1), Port: 465}, // 16-byte form
		{IP: net.ParseIP("2001:db8::1"), Port: 587},
		{IP: net.ParseIP("fe80::1"), Zone: "eth0", Port: 25},
	} {
		var tr wire.Transcript
		noteConnected(&tr, addrConn{remote: a})
		if got, want := tr.Lines(), "-- connected to "+a.String(); len(got) != 1 || got[0] != want {
			t.Errorf("noted %q, want %q", got, want)
		}
	}
	var c net.Conn = addrConn{remote: &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 587}}
	trs := make([]wire.Transcript, 101) // AllocsPerRun's runs, each its own
	rooms := make([][1]string, len(trs))
	for i := range trs {
		trs[i].Room(rooms[i][:0]) // as a test's trace gives it room
	}
	i := 0
	if n := testing.AllocsPerRun(100, func() { noteConnected(&trs[i], c); i++ }); n > 1 {
		t.Errorf("the note took %v allocations, want 1", n)
	}
}
