package fakeimap

import (
	"bufio"
	"crypto/tls"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/testutil/certs"
)

func dial(t *testing.T, s *Server) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	return c, bufio.NewReader(c)
}

func readUntil(t *testing.T, br *bufio.Reader, prefix string) []string {
	t.Helper()
	var lines []string
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading until %q: %v (got %q)", prefix, err, lines)
		}
		lines = append(lines, strings.TrimRight(l, "\r\n"))
		if strings.HasPrefix(l, prefix) {
			return lines
		}
	}
}

// The recorder tells the client's lines from the server's, and the raw
// watch catches a command pipelined behind STARTTLS.
func TestRecordsClientLines(t *testing.T) {
	s := Start(t, Options{InsecureAuth: true, Users: []User{{Name: "u", Password: "p"}}, HideCaps: []string{"SASL-IR"}})
	c, br := dial(t, s)
	greeting := readUntil(t, br, "* OK")
	if strings.Contains(greeting[0], "SASL-IR") || !strings.Contains(greeting[0], "IMAP4rev1") {
		t.Errorf("greeting %q: SASL-IR not hidden", greeting[0])
	}
	c.Write([]byte("a1 LOGIN u p\r\n"))
	readUntil(t, br, "a1 ")
	c.Write([]byte("a2 NOOP\r\n"))
	readUntil(t, br, "a2 ")
	c.Write([]byte("a3 LOGOUT\r\n"))
	readUntil(t, br, "a3 ")
	if got, want := s.ClientLines(), []string{"a1 LOGIN u p", "a2 NOOP", "a3 LOGOUT"}; !slices.Equal(got, want) {
		t.Errorf("ClientLines() = %q, want %q", got, want)
	}
	if got := s.Commands(); !slices.Equal(got, []string{"LOGIN", "NOOP", "LOGOUT"}) {
		t.Errorf("Commands() = %q", got)
	}
	if s.PlaintextAfterSTARTTLS() {
		t.Error("pipelining reported without STARTTLS")
	}
}

func TestDetectsPipelinedSTARTTLS(t *testing.T) {
	s := Start(t, Options{TLSConfig: selfSigned(t)})
	c, br := dial(t, s)
	readUntil(t, br, "* OK")
	c.Write([]byte("a1 STARTTLS\r\na2 CAPABILITY\r\n"))
	readUntil(t, br, "a1 ")
	deadline := time.Now().Add(2 * time.Second)
	for !s.PlaintextAfterSTARTTLS() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !s.PlaintextAfterSTARTTLS() {
		t.Error("a command pipelined behind STARTTLS went unnoticed")
	}
}

func TestByeGreeting(t *testing.T) {
	s := Start(t, Options{Bye: "go away"})
	_, br := dial(t, s)
	if l := readUntil(t, br, "*"); l[0] != "* BYE go away" {
		t.Errorf("greeting %q", l[0])
	}
}

func selfSigned(t *testing.T) *tls.Config {
	return certs.ServerConfig(certs.NewCA(t).Issue(t, certs.Leaf{}))
}
