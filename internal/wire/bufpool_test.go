package wire

import (
	"bufio"
	"context"
	"errors"
	"net"
	"runtime"
	"testing"
)

// pipe is a Conn over one end of a net.Pipe whose other end sends greeting.
func pipe(t *testing.T, greeting string) *Conn {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { b.Close() })
	go b.Write([]byte(greeting))
	return NewConn(context.Background(), a, DefaultLimits(), &Transcript{})
}

// TestReaderReused: a connection's 4 KiB line reader is reused by the
// next connection rather than allocated for each (the pool may drop some:
// always under the race detector, one in four).
func TestReaderReused(t *testing.T) {
	const n = 40
	reused := 0
	var last *bufio.Reader
	for range n {
		c := pipe(t, "220 hello\r\n")
		if c.br == last {
			reused++
		}
		if _, err := c.ReadLine(); err != nil {
			t.Fatal(err)
		}
		last = c.br
		c.Close()
	}
	if reused < n/4 {
		t.Errorf("the line reader was reused by %d connections of %d", reused, n)
	}
}

// TestReadAfterClose: a connection whose reader went back to the pool
// reads nothing more, not another connection's bytes.
func TestReadAfterClose(t *testing.T) {
	c := pipe(t, "220 hello\r\n")
	if _, err := c.ReadLine(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	other := pipe(t, "220 other\r\n") // may take the reader c gave back
	if _, err := c.ReadLine(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("ReadLine after Close: %v, want net.ErrClosed", err)
	}
	if _, err := c.ReadFull(3); !errors.Is(err, net.ErrClosed) {
		t.Errorf("ReadFull after Close: %v, want net.ErrClosed", err)
	}
	if line, err := other.ReadLine(); err != nil || line != "220 other" {
		t.Errorf("the other connection read %q, %v", line, err)
	}
	other.Close()
}

// TestCloseDuringRead: a read under way on another goroutine (IMAP IDLE)
// keeps its reader when the connection is closed: it ends with an error,
// and the race detector sees no reader shared with another connection.
func TestCloseDuringRead(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	c := NewConn(context.Background(), a, DefaultLimits(), &Transcript{})
	read := make(chan error, 1)
	go func() { _, err := c.ReadLine(); read <- err }()
	for c.rs.Load() != readerBusy {
		runtime.Gosched()
	}
	c.Close()
	for range 3 {
		other := pipe(t, "220 other\r\n")
		if _, err := other.ReadLine(); err != nil {
			t.Fatal(err)
		}
		other.Close()
	}
	if err := <-read; err == nil {
		t.Error("a read under way when the connection closed succeeded")
	}
}
