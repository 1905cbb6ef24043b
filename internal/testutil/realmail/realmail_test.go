package realmail_test

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

func TestMain(m *testing.M) { realmail.Main(m) }

// These tests speak raw protocol on purpose: they prove the harness, not
// mailmon's clients.

const ioTimeout = 5 * time.Second

func clientTLS(t *testing.T, e *realmail.Env) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(e.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", e.CAFile)
	}
	return &tls.Config{RootCAs: pool, ServerName: e.ServerName, MinVersion: tls.VersionTLS12}
}

func hosts(e *realmail.Env) []string {
	if e.IPv6 {
		return []string{"127.0.0.1", "::1"}
	}
	return []string{"127.0.0.1"}
}

// conn is one client connection, plain or TLS, read line by line.
type conn struct {
	t   *testing.T
	raw net.Conn
	c   net.Conn
	tp  *textproto.Conn
}

func dial(t *testing.T, e *realmail.Env, host string, port int, implicit bool) *conn {
	t.Helper()
	raw, err := net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(port)), ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	raw.SetDeadline(time.Now().Add(ioTimeout))
	c := &conn{t: t, raw: raw, c: raw}
	if implicit {
		c.handshake(e)
	}
	c.tp = textproto.NewConn(c.c)
	return c
}

func (c *conn) handshake(e *realmail.Env) {
	c.t.Helper()
	tc := tls.Client(c.raw, clientTLS(c.t, e))
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	if v := tc.ConnectionState().Version; v < tls.VersionTLS12 {
		c.t.Fatalf("TLS version %x below 1.2", v)
	}
	c.c = tc
	c.tp = textproto.NewConn(tc)
}

func (c *conn) line() string {
	c.t.Helper()
	l, err := c.tp.ReadLine()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return l
}

func (c *conn) send(format string, args ...any) {
	c.t.Helper()
	if err := c.tp.PrintfLine(format, args...); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// smtp sends a command (none if cmd is empty) and reads a whole reply.
func (c *conn) smtp(want int, cmd string) string {
	c.t.Helper()
	if cmd != "" {
		c.send("%s", cmd)
	}
	_, msg, err := c.tp.ReadResponse(want)
	if err != nil {
		c.t.Fatalf("%q: %v", cmd, err)
	}
	return msg
}

// ehlo returns the EHLO keywords and their parameters.
func (c *conn) ehlo() map[string]string {
	c.t.Helper()
	msg := c.smtp(250, "EHLO probe.example.test")
	kw := make(map[string]string)
	for _, l := range strings.Split(msg, "\n")[1:] {
		k, v, _ := strings.Cut(l, " ")
		kw[strings.ToUpper(k)] = v
	}
	return kw
}

func (c *conn) smtpStartTLS(e *realmail.Env) {
	c.t.Helper()
	c.smtp(220, "STARTTLS")
	c.handshake(e)
}

func authPlain(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

func TestGreetings(t *testing.T) {
	e := realmail.Start(t)
	for _, tc := range e.Services() {
		for _, h := range hosts(e) {
			t.Run(tc.Name+"/"+h, func(t *testing.T) {
				if tc.Port < 20000 {
					t.Fatalf("port %d below 20000", tc.Port)
				}
				c := dial(t, e, h, tc.Port, tc.Implicit)
				if l := c.line(); !strings.HasPrefix(l, tc.Greeting) {
					t.Fatalf("greeting %q, want prefix %q", l, tc.Greeting)
				}
			})
		}
	}
}

func TestSMTPCapabilities(t *testing.T) {
	e := realmail.Start(t)
	for _, tc := range []struct {
		name           string
		port           int
		starttls       bool // STARTTLS offered
		authBefore     bool // AUTH offered before TLS
		authAfter      bool // AUTH offered after STARTTLS
		authPlainClear bool // AUTH PLAIN works without TLS
	}{
		{name: "SMTP", port: e.SMTP, starttls: true},
		{name: "SMTPNoTLS", port: e.SMTPNoTLS},
		{name: "Submission", port: e.Submission, starttls: true, authAfter: true},
		{name: "SubmissionPlain", port: e.SubmissionPlain, starttls: true, authBefore: true, authAfter: true, authPlainClear: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, e, "127.0.0.1", tc.port, false)
			c.smtp(220, "")
			kw := c.ehlo()
			if _, ok := kw["STARTTLS"]; ok != tc.starttls {
				t.Fatalf("STARTTLS offered = %v, want %v (EHLO %v)", ok, tc.starttls, kw)
			}
			if _, ok := kw["AUTH"]; ok != tc.authBefore {
				t.Fatalf("AUTH before TLS = %v, want %v (EHLO %v)", ok, tc.authBefore, kw)
			}
			if tc.authPlainClear {
				c.smtp(235, "AUTH PLAIN "+authPlain(e.User, e.Password))
				c.smtp(221, "QUIT")
				return
			}
			if !tc.starttls {
				c.smtp(221, "QUIT")
				return
			}
			c.smtpStartTLS(e)
			kw = c.ehlo()
			if _, ok := kw["STARTTLS"]; ok {
				t.Fatal("STARTTLS offered again after TLS")
			}
			auth, ok := kw["AUTH"]
			if ok != tc.authAfter {
				t.Fatalf("AUTH after TLS = %v, want %v (EHLO %v)", ok, tc.authAfter, kw)
			}
			if ok {
				for _, m := range []string{"PLAIN", "LOGIN", "CRAM-MD5"} {
					if !strings.Contains(" "+auth+" ", " "+m+" ") {
						t.Errorf("AUTH %q lacks %s", auth, m)
					}
				}
				c.smtp(535, "AUTH PLAIN "+authPlain(e.User, "wrong"))
				c.smtp(235, "AUTH PLAIN "+authPlain(e.User, e.Password))
			}
			c.smtp(221, "QUIT")
		})
	}
}

func TestSMTPSAuth(t *testing.T) {
	e := realmail.Start(t)
	c := dial(t, e, "127.0.0.1", e.SMTPS, true)
	c.smtp(220, "")
	if _, ok := c.ehlo()["AUTH"]; !ok {
		t.Fatal("SMTPS offers no AUTH")
	}
	c.smtp(334, "AUTH LOGIN")
	c.smtp(334, base64.StdEncoding.EncodeToString([]byte(e.User2)))
	c.smtp(235, base64.StdEncoding.EncodeToString([]byte(e.Password2)))
	c.smtp(221, "QUIT")
}

// The plaintext password scheme is what makes CRAM-MD5 and APOP possible.
func TestSMTPCRAMMD5(t *testing.T) {
	e := realmail.Start(t)
	c := dial(t, e, "127.0.0.1", e.SMTPS, true)
	c.smtp(220, "")
	c.ehlo()
	challenge, err := base64.StdEncoding.DecodeString(c.smtp(334, "AUTH CRAM-MD5"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(md5.New, []byte(e.Password))
	mac.Write(challenge)
	c.smtp(235, base64.StdEncoding.EncodeToString([]byte(e.User+" "+hex.EncodeToString(mac.Sum(nil)))))
	c.smtp(221, "QUIT")
}

func TestPOP3APOPAndQuickFailure(t *testing.T) {
	e := realmail.Start(t)
	c := dial(t, e, "127.0.0.1", e.POP3, false)
	greeting := c.line()
	i, j := strings.Index(greeting, "<"), strings.LastIndex(greeting, ">")
	if i < 0 || j < i {
		t.Fatalf("greeting %q has no APOP timestamp", greeting)
	}
	c.send("APOP %s %x", e.User2, md5.Sum([]byte(greeting[i:j+1]+e.Password2)))
	if l := c.line(); !strings.HasPrefix(l, "+OK") {
		t.Fatalf("APOP: %q", l)
	}
	c.send("QUIT")
	c.line()

	// auth_failure_delay = 0 and no auth penalty: a wrong password is
	// answered within Dovecot's 0.5 s failure timer, not after 2 s.
	c = dial(t, e, "127.0.0.1", e.POP3, false)
	c.line()
	for range 2 {
		start := time.Now()
		c.send("USER %s", e.User)
		c.line()
		c.send("PASS wrong")
		if l := c.line(); !strings.HasPrefix(l, "-ERR") {
			t.Fatalf("PASS wrong: %q", l)
		}
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Errorf("a failed login took %v", d)
		}
	}
}

func TestSMTPRefusesRelayAndUnknownUsers(t *testing.T) {
	e := realmail.Start(t)
	c := dial(t, e, "127.0.0.1", e.SMTP, false)
	c.smtp(220, "")
	c.ehlo()
	c.smtp(250, "MAIL FROM:<sender@elsewhere.test>")
	c.smtp(554, "RCPT TO:<someone@elsewhere.test>")
	c.smtp(550, "RCPT TO:<nobody@"+e.Domain+">")
	c.smtp(221, "QUIT")

	// Submission wants AUTH before it takes any recipient.
	s := dial(t, e, "127.0.0.1", e.Submission, false)
	s.smtp(220, "")
	s.ehlo()
	s.smtp(250, "MAIL FROM:<sender@elsewhere.test>")
	s.smtp(554, "RCPT TO:<"+e.User+">")
	s.smtp(221, "QUIT")
}

func TestPOP3STLS(t *testing.T) {
	e := realmail.Start(t)
	c := dial(t, e, "127.0.0.1", e.POP3, false)
	if l := c.line(); !strings.HasPrefix(l, "+OK") || !strings.Contains(l, "<") {
		t.Fatalf("greeting %q: want +OK with an APOP timestamp", l)
	}
	c.send("STLS")
	if l := c.line(); !strings.HasPrefix(l, "+OK") {
		t.Fatalf("STLS: %q", l)
	}
	c.handshake(e)
	c.send("CAPA")
	if l := c.line(); !strings.HasPrefix(l, "+OK") {
		t.Fatalf("CAPA: %q", l)
	}
	caps, err := c.tp.ReadDotLines()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.Join(caps, "\n"), "STLS") {
		t.Errorf("STLS offered again after TLS: %q", caps)
	}
	c.send("QUIT")
	c.line()
}

func TestIMAPSTARTTLS(t *testing.T) {
	e := realmail.Start(t)
	c := dial(t, e, "127.0.0.1", e.IMAP, false)
	if l := c.line(); !strings.HasPrefix(l, "* OK") || !strings.Contains(l, "STARTTLS") {
		t.Fatalf("greeting %q: want * OK with STARTTLS", l)
	}
	c.send("a1 STARTTLS")
	if l := c.line(); !strings.HasPrefix(l, "a1 OK") {
		t.Fatalf("STARTTLS: %q", l)
	}
	c.handshake(e)
	c.send("a2 CAPABILITY")
	caps := c.line()
	if !strings.HasPrefix(caps, "* CAPABILITY") || strings.Contains(caps, "STARTTLS") {
		t.Fatalf("CAPABILITY after TLS: %q", caps)
	}
	if l := c.line(); !strings.HasPrefix(l, "a2 OK") {
		t.Fatalf("CAPABILITY: %q", l)
	}
	c.send("a3 LOGOUT")
}

func countMessages(t *testing.T, maildir string) int {
	t.Helper()
	n := 0
	for _, sub := range []string{"new", "cur"} {
		ents, err := os.ReadDir(filepath.Join(maildir, sub))
		if err != nil {
			t.Fatal(err)
		}
		n += len(ents)
	}
	return n
}

func TestDelivery(t *testing.T) {
	e := realmail.Start(t)
	md := e.Maildir(e.User)
	before := countMessages(t, md)
	nonce := make([]byte, 8)
	rand.Read(nonce)
	subject := "realmail harness " + hex.EncodeToString(nonce)

	c := dial(t, e, "127.0.0.1", e.SMTP, false)
	c.smtp(220, "")
	c.ehlo()
	c.smtp(250, "MAIL FROM:<sender@elsewhere.test>")
	c.smtp(250, "RCPT TO:<"+e.User+">")
	c.smtp(354, "DATA")
	w := c.tp.DotWriter()
	fmt.Fprintf(w, "From: <sender@elsewhere.test>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nhello\r\n", e.User, subject)
	w.Close()
	c.smtp(250, "")
	sent := time.Now()
	c.smtp(221, "QUIT")

	for countMessages(t, md) == before {
		if time.Since(sent) > 2*time.Second {
			t.Fatalf("no new message in %s after 2 s\n%s", md, e.LogTail())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("delivered into %s in %v", md, time.Since(sent).Round(time.Millisecond))
	after := countMessages(t, md)

	p := dial(t, e, "127.0.0.1", e.POP3, false)
	p.line()
	p.send("USER %s", e.User)
	if l := p.line(); !strings.HasPrefix(l, "+OK") {
		t.Fatalf("USER: %q", l)
	}
	p.send("PASS %s", e.Password)
	if l := p.line(); !strings.HasPrefix(l, "+OK") {
		t.Fatalf("PASS: %q", l)
	}
	p.send("STAT")
	stat := p.line()
	var n, size int
	if _, err := fmt.Sscanf(stat, "+OK %d %d", &n, &size); err != nil || n != after {
		t.Fatalf("STAT %q: want %d messages (fresh run: 1)", stat, after)
	}
	p.send("RETR %d", n)
	if l := p.line(); !strings.HasPrefix(l, "+OK") {
		t.Fatalf("RETR: %q", l)
	}
	msg, err := p.tp.ReadDotLines()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(msg, "\n"), "Subject: "+subject) {
		t.Fatalf("the last message is not ours:\n%s", strings.Join(msg, "\n"))
	}
	p.send("QUIT")
	p.line()

	// The same message over IMAP.
	i := dial(t, e, "127.0.0.1", e.IMAPS, true)
	i.line()
	i.send("a1 LOGIN %s %s", e.User, e.Password)
	if l := readTagged(t, i, "a1"); !strings.HasPrefix(l, "a1 OK") {
		t.Fatalf("LOGIN: %q", l)
	}
	i.send("a2 SELECT INBOX")
	exists := -1
	for {
		l := i.line()
		if strings.HasPrefix(l, "a2 ") {
			if !strings.HasPrefix(l, "a2 OK") {
				t.Fatalf("SELECT: %q", l)
			}
			break
		}
		if f := strings.Fields(l); len(f) == 3 && f[0] == "*" && f[2] == "EXISTS" {
			exists, _ = strconv.Atoi(f[1])
		}
	}
	if exists != after {
		t.Fatalf("IMAP INBOX has %d messages, want %d", exists, after)
	}
	i.send("a3 LOGOUT")
}

func TestJunkFolder(t *testing.T) {
	e := realmail.Start(t)
	msg := "From: <spam@elsewhere.test>\r\nTo: <" + e.User2 + ">\r\nSubject: junk\r\n\r\nbuy\r\n"
	path := filepath.Join(e.Maildir(e.User2), ".Junk", "new", fmt.Sprintf("%d.realmail.test", time.Now().UnixNano()))
	if err := os.WriteFile(path, []byte(msg), 0o644); err != nil {
		t.Fatal(err)
	}
	c := dial(t, e, "127.0.0.1", e.IMAP, false)
	c.line()
	c.send("a1 LOGIN %s %s", e.User2, e.Password2)
	if l := readTagged(t, c, "a1"); !strings.HasPrefix(l, "a1 OK") {
		t.Fatalf("LOGIN: %q", l)
	}
	c.send(`a2 LIST "" "*"`)
	junk := false
	for l := c.line(); !strings.HasPrefix(l, "a2 "); l = c.line() {
		junk = junk || (strings.Contains(l, `\Junk`) && strings.HasSuffix(l, " Junk"))
	}
	if !junk {
		t.Error("LIST shows no Junk folder with \\Junk")
	}
	c.send("a3 STATUS Junk (MESSAGES)")
	if l := c.line(); !strings.Contains(l, "MESSAGES 1") {
		t.Errorf("STATUS Junk: %q, want 1 message", l)
	}
	c.send("a4 LOGOUT")
}

func readTagged(t *testing.T, c *conn, tag string) string {
	t.Helper()
	for {
		if l := c.line(); strings.HasPrefix(l, tag+" ") {
			return l
		}
	}
}

func TestStartReturnsSameEnv(t *testing.T) {
	if realmail.Start(t) != realmail.Start(t) {
		t.Fatal("Start made a second Env")
	}
}
