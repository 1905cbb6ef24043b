package wire

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestDialChecked: the check sees the address actually dialled, and a
// refusal stops the dial before a connection is made; with several
// addresses the allowed one is used.
func TestDialChecked(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	refuse := errors.New("refused by policy")
	var seen []netip.Addr
	check := func(a netip.Addr) error {
		seen = append(seen, a)
		if a == netip.MustParseAddr("127.0.0.1") {
			return refuse
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = DialChecked(ctx, []netip.Addr{netip.MustParseAddr("127.0.0.1")}, port, check)
	var de *DialError
	if !errors.As(err, &de) || !errors.Is(err, refuse) {
		t.Fatalf("DialChecked = %v, want a DialError wrapping the refusal", err)
	}
	if len(seen) != 1 || seen[0] != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("the check saw %v", seen)
	}
	// The same listener, reached without the check, proves that the
	// refusal, not a closed port, stopped the first dial.
	c, err := Dial(ctx, []netip.Addr{netip.MustParseAddr("127.0.0.1")}, port)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	<-accepted
	select {
	case <-accepted:
		t.Error("the refused dial reached the listener")
	case <-time.After(100 * time.Millisecond):
	}
}
