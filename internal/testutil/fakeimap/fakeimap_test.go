package fakeimap

import (
	"bufio"
	"crypto/tls"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

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

// Append delivers while the server runs, an idling client hears of it, and
// Snapshot reads the mailbox without showing up in ClientLines.
func TestAppendAndSnapshot(t *testing.T) {
	s := Start(t, Options{InsecureAuth: true, Users: []User{{Name: "u", Password: "p", Mail: map[string][]string{"INBOX": {"Subject: one\r\n\r\n1\r\n"}}}}})
	c, br := dial(t, s)
	readUntil(t, br, "* OK")
	c.Write([]byte("a1 LOGIN u p\r\na2 SELECT INBOX\r\n"))
	readUntil(t, br, "a2 ")
	c.Write([]byte("a3 IDLE\r\n"))
	readUntil(t, br, "+ ")
	time.Sleep(50 * time.Millisecond) // see Append
	if err := s.Append("u", "inbox", []byte("Subject: two\r\n\r\n2\r\n"), `\Seen`, "$Label"); err != nil {
		t.Fatal(err)
	}
	readUntil(t, br, "* 2 EXISTS")
	c.Write([]byte("DONE\r\n"))
	readUntil(t, br, "a3 ")
	if err := s.Append("nobody", "INBOX", nil); err == nil {
		t.Error("Append to an unknown user")
	}
	if err := s.Append("u", "Nowhere", []byte("x\r\n")); err == nil {
		t.Error("Append to an unknown mailbox")
	}
	got := s.Snapshot(t, "u", "INBOX")
	if len(got) != 2 || got[0].UID != 1 || string(got[0].Raw) != "Subject: one\r\n\r\n1\r\n" || len(got[0].Flags) != 0 ||
		got[1].UID != 2 || string(got[1].Raw) != "Subject: two\r\n\r\n2\r\n" || !slices.Equal(got[1].Flags, []string{"$label", `\Seen`}) { // the memory server keeps keywords in lower case
		t.Errorf("Snapshot() = %+v", got)
	}
	if got := s.Commands(); !slices.Equal(got, []string{"LOGIN", "SELECT", "IDLE"}) {
		t.Errorf("Commands() = %q: the snapshot shows", got)
	}
}

// SpecialUse marks mailboxes for LIST (SPECIAL-USE), LIST RETURN
// (SPECIAL-USE) and a plain LIST, and advertises SPECIAL-USE.
func TestSpecialUse(t *testing.T) {
	s := Start(t, Options{InsecureAuth: true, Caps: []imap.Cap{imap.CapListExtended},
		SpecialUse: map[string]imap.MailboxAttr{"Spam": imap.MailboxAttrJunk},
		Users:      []User{{Name: "u", Password: "p", Mail: map[string][]string{"Spam": nil, "Archive": nil}}}})
	c, br := dial(t, s)
	readUntil(t, br, "* OK")
	c.Write([]byte("a1 LOGIN u p\r\n"))
	if l := readUntil(t, br, "a1 "); !strings.Contains(l[len(l)-1], "SPECIAL-USE") || !strings.Contains(l[len(l)-1], "LIST-EXTENDED") {
		t.Errorf("capabilities %q", l)
	}
	for _, tt := range []struct{ cmd, want string }{
		{`a2 LIST (SPECIAL-USE) "" "*"`, `* LIST (\Junk) "/" "Spam"|a2 OK`},
		{`a3 LIST "" "*" RETURN (SPECIAL-USE)`, `* LIST () "/" "Archive"|* LIST () "/" INBOX|* LIST (\Junk) "/" "Spam"|a3 OK`},
		{`a4 LIST "" "S*"`, `* LIST (\Junk) "/" "Spam"|a4 OK`},
	} {
		c.Write([]byte(tt.cmd + "\r\n"))
		l := readUntil(t, br, tt.cmd[:3])
		l[len(l)-1] = l[len(l)-1][:5]
		if got := strings.Join(l, "|"); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.cmd, got, tt.want)
		}
	}
}
