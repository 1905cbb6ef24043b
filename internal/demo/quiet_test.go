package demo

import (
	"bytes"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
)

// TestQuietLog: the demo's SMTP server does not log a client that hung up
// (its own TCP monitor, every test), and logs anything else.
func TestQuietLog(t *testing.T) {
	var b bytes.Buffer
	q := newQuietLog(&b)
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	// As go-smtp logs a connection's error.
	q.Printf("error handling %v: %s", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, reset)
	if b.Len() != 0 {
		t.Errorf("a hang-up was logged: %s", b.String())
	}
	q.Printf("error handling %v: %s", "127.0.0.1:40000", errors.New("tls: handshake failure"))
	if !bytes.Contains(b.Bytes(), []byte("handshake failure")) {
		t.Errorf("another error was not logged: %q", b.String())
	}
}
