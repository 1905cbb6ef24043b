package pop3server_test

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/mail/pop3server"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/leak"
)

// serve runs s on a loopback port until the test ends.
func serve(t *testing.T, s *pop3server.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; !errors.Is(err, pop3server.ErrClosed) {
			t.Errorf("Serve after Close = %v, want ErrClosed", err)
		}
	})
	return ln.Addr().String()
}

// client is a raw POP3 conversation.
type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	cl := &client{t: t, c: c, r: bufio.NewReader(c)}
	cl.expect("+OK ")
	return cl
}

func (cl *client) line() string {
	cl.t.Helper()
	l, err := cl.r.ReadString('\n')
	if err != nil {
		cl.t.Fatalf("read: %v", err)
	}
	return strings.TrimRight(l, "\r\n")
}

func (cl *client) expect(prefix string) string {
	cl.t.Helper()
	l := cl.line()
	if !strings.HasPrefix(l, prefix) {
		cl.t.Fatalf("got %q, want %q…", l, prefix)
	}
	return l
}

// cmd sends line and checks the reply's first line.
func (cl *client) cmd(line, want string) string {
	cl.t.Helper()
	if _, err := io.WriteString(cl.c, line+"\r\n"); err != nil {
		cl.t.Fatal(err)
	}
	return cl.expect(want)
}

// The demo's two monitors look at one mailbox at once: without Lock both
// log in, and a message DELE'd by one is gone for the next session only at
// its QUIT.
func TestTwoSessionsWithoutLock(t *testing.T) {
	leak.Check(t)
	s := pop3server.New(pop3server.Options{Users: map[string]string{"bob": "pw"}})
	addr := serve(t, s)
	s.Deliver("bob", []byte("Subject: one\n\nbody\n"))
	a, b := dial(t, addr), dial(t, addr)
	for _, cl := range []*client{a, b} {
		cl.cmd("USER bob", "+OK")
		cl.cmd("PASS pw", "+OK bob has 1 messages")
	}
	a.cmd("DELE 1", "+OK")
	b.cmd("STAT", "+OK 1 ")
	a.cmd("QUIT", "+OK bye")
	if n := len(s.Messages("bob")); n != 0 {
		t.Errorf("%d messages after QUIT, want 0", n)
	}
	b.cmd("QUIT", "+OK bye")
}

func TestLockRefusesASecondSession(t *testing.T) {
	leak.Check(t)
	s := pop3server.New(pop3server.Options{Users: map[string]string{"bob": "pw"}, Lock: true})
	addr := serve(t, s)
	a, b := dial(t, addr), dial(t, addr)
	a.cmd("USER bob", "+OK")
	a.cmd("PASS pw", "+OK")
	b.cmd("USER bob", "+OK")
	b.cmd("PASS pw", "-ERR [IN-USE]")
}

// A line longer than MaxLine ends the session: a client cannot make the
// server hold more.
func TestLongLineEndsTheSession(t *testing.T) {
	leak.Check(t)
	addr := serve(t, pop3server.New(pop3server.Options{MaxLine: 64}))
	cl := dial(t, addr)
	cl.cmd("NOOP", "-ERR") // not logged in, but answered
	io.WriteString(cl.c, strings.Repeat("x", 200)+"\r\n")
	if l, err := cl.r.ReadString('\n'); !closed(err) {
		t.Fatalf("after a line of 200 bytes: %q, %v; want the connection closed", l, err)
	}
}

// closed: the server closed the connection (EOF, or a reset when it left
// bytes unread), rather than the client's own deadline passing.
func closed(err error) bool {
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// An idle session ends at its deadline.
func TestTimeoutEndsAnIdleSession(t *testing.T) {
	leak.Check(t)
	addr := serve(t, pop3server.New(pop3server.Options{Timeout: 200 * time.Millisecond}))
	cl := dial(t, addr)
	start := time.Now()
	if l, err := cl.r.ReadString('\n'); !closed(err) {
		t.Fatalf("an idle session read %q, %v; want the connection closed", l, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("closed after %v, want about 200ms", d)
	}
}

// What a client sends behind STLS is dropped, never answered inside TLS
// (an attacker on the path injects commands there), and the hook is told.
func TestBytesBehindSTLSAreDropped(t *testing.T) {
	leak.Check(t)
	ca := certs.NewCA(t)
	told := make(chan int, 1)
	s := pop3server.New(pop3server.Options{
		TLS: certs.ServerConfig(ca.Issue(t, certs.Leaf{})), STLS: true,
		Hooks: pop3server.Hooks{BehindSTLS: func(_, n int) bool { told <- n; return true }},
	})
	cl := dial(t, serve(t, s))
	cl.cmd("STLS\r\nNOOP", "+OK begin TLS")
	if n := <-told; n != len("NOOP\r\n") {
		t.Errorf("BehindSTLS told %d bytes, want %d", n, len("NOOP\r\n"))
	}
	tc := tls.Client(cl.c, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
	cl.c, cl.r = tc, bufio.NewReader(tc)
	cl.cmd("CAPA", "+OK capability list follows") // not the NOOP's "-ERR"
	for l := cl.line(); l != "."; l = cl.line() {
		if l == "STLS" {
			t.Errorf("STLS offered inside TLS")
		}
	}
}

// ServeConn says whether the client ended with QUIT: the farm counts only
// those sessions.
func TestServeConnReportsQuit(t *testing.T) {
	leak.Check(t)
	s := pop3server.New(pop3server.Options{})
	for _, quit := range []bool{true, false} {
		srv, cli := net.Pipe()
		done := make(chan error, 1)
		go func() { done <- s.ServeConn(srv) }()
		cl := &client{t: t, c: cli, r: bufio.NewReader(cli)}
		cl.expect("+OK POP3 ready")
		if quit {
			cl.cmd("QUIT", "+OK bye")
		} else {
			cli.Close()
		}
		err := <-done
		srv.Close()
		cli.Close()
		if quit && err != nil || !quit && !errors.Is(err, pop3server.ErrNoQuit) {
			t.Errorf("quit %v: ServeConn = %v", quit, err)
		}
	}
}
