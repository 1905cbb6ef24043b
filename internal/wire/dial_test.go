package wire

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func addrs(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, a := range s {
		out[i] = netip.MustParseAddr(a)
	}
	return out
}

func TestInterleave(t *testing.T) {
	for _, tt := range []struct{ in, want []netip.Addr }{
		{addrs("::1"), addrs("::1")},
		{addrs("2001:db8::1", "2001:db8::2", "192.0.2.1", "192.0.2.2"), addrs("2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2")},
		{addrs("192.0.2.1", "192.0.2.2", "192.0.2.3", "2001:db8::1"), addrs("192.0.2.1", "2001:db8::1", "192.0.2.2", "192.0.2.3")},
		{addrs("192.0.2.1", "192.0.2.2"), addrs("192.0.2.1", "192.0.2.2")},
	} {
		if got := interleave(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("interleave(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// fakeDialer answers dials by address: "hang" waits for the context,
// "refuse" fails at once, "ok" connects (to one end of a pipe). It records
// the order of the attempts and the connections it made.
type fakeDialer struct {
	how map[string]string // address (host:port) → hang, refuse, ok
	// okAfterCancel makes an "ok" address connect even once the race is
	// decided (a connection that completed a moment too late).
	okAfterCancel bool

	// holdUntil, if set, holds "ok" dials back until that many attempts
	// started.
	holdUntil int

	mu       sync.Mutex
	tried    []string
	conns    []*trackedConn
	released chan struct{}
}

type trackedConn struct {
	net.Conn
	mu     sync.Mutex
	closed bool
}

func (c *trackedConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return c.Conn.Close()
}

func (c *trackedConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (f *fakeDialer) dial(ctx context.Context, _, addr string) (net.Conn, error) {
	f.mu.Lock()
	f.tried = append(f.tried, addr)
	if f.released == nil {
		f.released = make(chan struct{})
	}
	if len(f.tried) >= f.holdUntil && f.holdUntil >= 0 {
		close(f.released)
		f.holdUntil = -1
	}
	released := f.released
	f.mu.Unlock()
	switch f.how[addr] {
	case "refuse":
		return nil, errors.New("connection refused by " + addr)
	case "ok":
		<-released
		if ctx.Err() != nil && !f.okAfterCancel {
			return nil, ctx.Err()
		}
		a, b := net.Pipe()
		b.Close()
		c := &trackedConn{Conn: a}
		f.mu.Lock()
		f.conns = append(f.conns, c)
		f.mu.Unlock()
		return c, nil
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestDialEyeballs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	t.Run("the next attempt starts after the delay, the first connection wins", func(t *testing.T) {
		f := &fakeDialer{how: map[string]string{"[2001:db8::1]:25": "hang", "192.0.2.1:25": "ok"}}
		start := time.Now()
		c, err := dialEyeballs(ctx, addrs("2001:db8::1", "192.0.2.1"), 25, 50*time.Millisecond, f.dial)
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < 50*time.Millisecond || took > 2*time.Second {
			t.Errorf("took %v with an attempt delay of 50 ms", took)
		}
		if c != f.conns[0] || !slices.Equal(f.tried, []string{"[2001:db8::1]:25", "192.0.2.1:25"}) {
			t.Errorf("tried %v", f.tried)
		}
	})
	t.Run("a failed attempt starts the next at once", func(t *testing.T) {
		f := &fakeDialer{how: map[string]string{"192.0.2.1:25": "refuse", "192.0.2.2:25": "refuse", "192.0.2.3:25": "ok"}}
		c, err := dialEyeballs(ctx, addrs("192.0.2.1", "192.0.2.2", "192.0.2.3"), 25, time.Hour, f.dial)
		if err != nil || c == nil {
			t.Fatalf("dial: %v", err)
		}
	})
	t.Run("a connection made after the race was decided is closed", func(t *testing.T) {
		f := &fakeDialer{how: map[string]string{"192.0.2.1:25": "ok", "192.0.2.2:25": "refuse", "192.0.2.3:25": "ok"},
			okAfterCancel: true, holdUntil: 3}
		// 192.0.2.1 is held back until 192.0.2.2 failed and 192.0.2.3
		// started: both "ok" dials then complete, one of them late.
		c, err := dialEyeballs(ctx, addrs("192.0.2.1", "192.0.2.2", "192.0.2.3"), 25, 10*time.Millisecond, f.dial)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.conns) != 2 {
			t.Fatalf("%d connections made", len(f.conns))
		}
		for _, fc := range f.conns {
			if won := net.Conn(fc) == c; fc.isClosed() == won {
				t.Errorf("connection (the winner: %v) closed: %v", won, fc.isClosed())
			}
		}
	})
	t.Run("every failure is reported", func(t *testing.T) {
		f := &fakeDialer{how: map[string]string{"192.0.2.1:25": "refuse", "[2001:db8::1]:25": "refuse"}}
		_, err := dialEyeballs(ctx, addrs("192.0.2.1", "2001:db8::1"), 25, time.Hour, f.dial)
		var de *DialError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), "192.0.2.1:25") || !strings.Contains(err.Error(), "[2001:db8::1]:25") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("the deadline ends every attempt", func(t *testing.T) {
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		f := &fakeDialer{how: map[string]string{}}
		_, err := dialEyeballs(short, addrs("192.0.2.1", "192.0.2.2", "192.0.2.3"), 25, 30*time.Millisecond, f.dial)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v", err)
		}
	})
}

// TestDialOneAddress: a target with one address is dialled at
// "host:port" as net.JoinHostPort writes it (IPv6 in brackets, its zone
// kept), which also names it in the error, with one allocation for the
// address where net.JoinHostPort took three.
func TestDialOneAddress(t *testing.T) {
	for _, a := range []string{"192.0.2.1", "2001:db8::1", "fe80::1%eth0"} {
		var got string
		refuse := func(_ context.Context, _, addr string) (net.Conn, error) {
			got = addr
			return nil, errors.New("refused")
		}
		_, err := dialEyeballs(context.Background(), addrs(a), 2525, time.Millisecond, refuse)
		want := net.JoinHostPort(a, "2525")
		var de *DialError
		if got != want || !errors.As(err, &de) || de.Addr != want {
			t.Errorf("%s: dialled %q, error %v; want %q", a, got, err, want)
		}
	}
	noop := func(context.Context, string, string) (net.Conn, error) { return nil, nil }
	one := addrs("2001:db8::1")
	if n := testing.AllocsPerRun(100, func() { dialEyeballs(context.Background(), one, 25, time.Millisecond, noop) }); n > 1 {
		t.Errorf("dialling one address allocated %v times, want 1", n)
	}
}
