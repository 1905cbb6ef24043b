package imap

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mailmon/mailmon/internal/sasl"
	"github.com/mailmon/mailmon/internal/wire"
)

var responseSeeds = []string{
	"* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready\r\n",
	"* OK IMAP4rev1 ready\r\n",
	"* PREAUTH [CAPABILITY IMAP4rev2] hi\r\n",
	"* BYE go away\r\n",
	"* CAPABILITY IMAP4rev1 SASL-IR LITERAL+ AUTH=XOAUTH2\r\na1 OK done\r\n",
	"a1 OK [READ-ONLY] EXAMINE completed\r\n",
	"a1 NO [UNAVAILABLE] later\r\n",
	"a2 BAD [unterminated\r\n",
	"+ \r\n+\r\n+ dGVzdA==\r\n",
	"* 172 EXISTS\r\n* OK [UIDVALIDITY 3857529045] UIDs valid\r\n",
	"* STATUS INBOX (MESSAGES 231 UIDNEXT 44292 UNSEEN 3)\r\n",
	"* STATUS {5}\r\nINBOX (MESSAGES 1)\r\n",
	"* 1 FETCH (UID 5 BODY[HEADER.FIELDS (X-A)] {4}\r\nab\r\n FLAGS (\\Seen))\r\n",
	"* LIST (\\HasNoChildren) \"/\" {5}\r\nINBOX\r\n",
	"* 1 FETCH (BODY[] {999999999999}\r\n",
	"* 1 FETCH (BODY[] {99999999999999999999999}\r\n",
	"* X {1}\r\na{1}\r\nb{1}\r\nc{1}\r\nd\r\n",
	"* X ~{3+}\r\nabc\r\n",
	"* LIST (((((((((((((((((((((((((((())))))))))))))))))))))))))))\r\n",
	"* OK \xff\xfe\x00 invalid\r\n",
	"\r\n",
	"*\r\n",
}

// FuzzReadResponse: the response reader and its parsers never panic, and
// respect the caps whatever the server sends.
func FuzzReadResponse(f *testing.F) {
	for _, s := range responseSeeds {
		f.Add(s)
	}
	lim := ResponseLimits{MaxLiteral: 64, MaxLiterals: 3}
	f.Fuzz(func(t *testing.T, in string) {
		r := newMemReader(in, 256)
		for range 50 {
			resp, err := ReadResponse(r, lim)
			if err != nil {
				return
			}
			if len(resp.Lines) != len(resp.Literals)+1 {
				t.Fatalf("%d lines for %d literals", len(resp.Lines), len(resp.Literals))
			}
			if len(resp.Literals) > lim.MaxLiterals {
				t.Fatalf("%d literals", len(resp.Literals))
			}
			for _, l := range resp.Literals {
				if int64(len(l)) > lim.MaxLiteral {
					t.Fatalf("literal of %d bytes", len(l))
				}
			}
			s := resp.String()
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				t.Fatalf("String() = %q", s)
			}
			resp.Name()
			resp.Number()
			if st, err := resp.Status(); err == nil {
				if !utf8.ValidString(st.Text) || !utf8.ValidString(st.String()) {
					t.Fatalf("status text %q", st.Text)
				}
				st.Err()
			}
			if fs, err := resp.Fields(); err == nil {
				walk(fs, 0, t)
			}
		}
	})
}

// walk visits fields; depth is how many lists hold them.
func walk(fs []Field, depth int, t *testing.T) {
	if len(fs) > 0 && depth > maxDepth {
		t.Fatalf("lists nested %d deep", depth)
	}
	for _, f := range fs {
		f.Number()
		f.AString()
		f.IsNil()
		if f.Kind == ListField {
			walk(f.List, depth+1, t)
		}
	}
}

// memConn is a net.Conn that reads a fixed server script and swallows
// what the client writes.
type memConn struct {
	r   *bytes.Reader
	out bytes.Buffer
}

func (m *memConn) Read(p []byte) (int, error)         { return m.r.Read(p) }
func (m *memConn) Write(p []byte) (int, error)        { return m.out.Write(p) }
func (m *memConn) Close() error                       { return nil }
func (m *memConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (m *memConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (m *memConn) SetDeadline(t time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(t time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(t time.Time) error { return nil }

// FuzzClient runs a whole session against arbitrary server bytes: the
// client never panics, never lets a secret into the transcript's client
// lines, and never reads past the connection's budget.
func FuzzClient(f *testing.F) {
	f.Add("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] hi\r\na1 OK in\r\n* 2 EXISTS\r\na2 OK [READ-ONLY] ok\r\n* STATUS INBOX (MESSAGES 2 UIDNEXT 3 UNSEEN 0)\r\na3 OK\r\n* BYE\r\na4 OK\r\n")
	f.Add("* OK hi\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na1 OK\r\n+ \r\na2 OK\r\n* 0 EXISTS\r\na3 OK\r\n")
	f.Add("* OK hi\r\n* CAPABILITY IMAP4rev1\r\na1 OK\r\n+ go\r\na2 OK\r\n")
	f.Add("* PREAUTH [CAPABILITY IMAP4rev2] hi\r\n* STATUS {5}\r\nINBOX (MESSAGES 1)\r\na1 OK\r\n")
	f.Add("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n+ \r\n+ !!\r\na1 BAD x\r\n")
	f.Add("* OK hi\r\n* CAPABILITY {999999999999}\r\n")
	f.Add("* BYE no\r\n")
	lim := wire.Limits{MaxLine: 512, MaxBytes: 64 << 10, MaxReplyLines: 50}
	f.Fuzz(func(t *testing.T, in string) {
		mc := &memConn{r: bytes.NewReader([]byte(in))}
		tr := &wire.Transcript{}
		conn := wire.NewConn(context.Background(), mc, lim, tr)
		defer conn.Close()
		cl := NewClient(conn, Options{MaxLiteral: 1024, MaxLiterals: 4})
		steps := []func() error{
			func() error { _, err := cl.Greeting(); return err },
			func() error {
				if cl.HasCaps() {
					return nil
				}
				_, err := cl.Capability()
				return err
			},
			func() error {
				if cl.Has("AUTH=PLAIN") {
					m, _ := sasl.New(sasl.Plain, sasl.Credentials{User: "u", Password: "pw-secret"})
					return cl.Authenticate(m)
				}
				return cl.Login("u", "pw-secret")
			},
			func() error { _, err := cl.Examine("INBOX"); return err },
			func() error { _, err := cl.Status("Entwürfe"); return err },
			cl.Logout,
		}
		for _, step := range steps {
			if err := step(); err != nil {
				break
			}
		}
		for _, l := range tr.Lines() {
			if !utf8.ValidString(l) || strings.ContainsRune(l, 0) {
				t.Fatalf("transcript line %q", l)
			}
			if strings.HasPrefix(l, "C: ") && strings.Contains(l, "pw-secret") {
				t.Fatalf("secret in %q", l)
			}
		}
	})
}

// FuzzMailbox: decoding never panics; encoding round-trips and is ASCII.
func FuzzMailbox(f *testing.F) {
	for _, s := range []string{"INBOX", "Entwürfe", "A&B", "~peter/mail/&U,BTFw-/&ZeVnLIqe-", "&", "&-", "&AGE-", "😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		DecodeMailbox(s)
		if !utf8.ValidString(s) {
			return
		}
		enc := EncodeMailbox(s)
		for i := 0; i < len(enc); i++ {
			if enc[i] < 0x20 || enc[i] > 0x7e {
				t.Fatalf("EncodeMailbox(%q) = %q", s, enc)
			}
		}
		dec, err := DecodeMailbox(enc)
		if err != nil || dec != s {
			t.Fatalf("DecodeMailbox(EncodeMailbox(%q)) = %q, %v", s, dec, err)
		}
	})
}
