package wire

import (
	"net"
	"syscall"
)

// quickAckConn asks Linux to acknowledge received data at once instead of
// delaying the ACK. Without it, after a TLS 1.3 handshake Postfix's first
// reply waits behind Nagle's algorithm for the ACK of its session tickets, and
// the client's delayed ACK adds ~40 ms that is the client's, not the server's.
// The kernel leaves quick-ACK mode on its own, so it is set before each read,
// from the start of the TLS handshake on: a plaintext conversation does not
// need it (each command carries the ACK of the reply before it), and a banner
// test spared the system call per read costs a few percent less CPU.
type quickAckConn struct {
	*net.TCPConn
	rc syscall.RawConn
	on bool // set by quickAckFromNow; read and set on the test's goroutine
}

func withQuickAck(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	return &quickAckConn{TCPConn: tc, rc: rc}
}

// quickAckFromNow turns quick ACKs on for every later read of c.
func quickAckFromNow(c net.Conn) {
	if q, ok := c.(*quickAckConn); ok {
		q.on = true
	}
}

func (q *quickAckConn) Read(p []byte) (int, error) {
	if q.on {
		q.rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
		})
	}
	return q.TCPConn.Read(p)
}
