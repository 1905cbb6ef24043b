package smtp

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailmon/mailmon/internal/sasl"
	"github.com/mailmon/mailmon/internal/wire"
)

// Client is one SMTP session.
type Client struct {
	conn *wire.Conn
	ext  []extension // EHLO keywords in the order the server advertised them, each once
	ehlo bool
}

// extension is an EHLO keyword (upper case) and its parameters. A slice of
// them, searched in turn, rather than a map: an EHLO reply has a dozen
// lines, and the map and its keyword list were three of a STARTTLS
// test's allocations per EHLO, the slice is one (BenchmarkTestPath).
type extension struct{ kw, params string }

// find is the index of the keyword kw in cl.ext, or -1; same says when
// two keywords are the same (== for an upper-case kw, else EqualFold). A
// hostile EHLO reply makes Hello compare each keyword with those before:
// MaxReplyLines²/2 comparisons at most, MaxReplyLines × MaxBytes bytes.
func (cl *Client) find(kw string, same func(a, b string) bool) int {
	for i := range cl.ext {
		if same(cl.ext[i].kw, kw) {
			return i
		}
	}
	return -1
}

func equal(a, b string) bool { return a == b }

// NewClient starts a session on c; the caller reads the greeting next.
func NewClient(c *wire.Conn) *Client { return &Client{conn: c} }

func (cl *Client) reply() (*Reply, error) {
	return ReadReply(cl.conn, cl.conn.Limits().MaxReplyLines)
}

// cmd sends a line and reads the reply.
func (cl *Client) cmd(line string) (*Reply, error) {
	if err := cl.conn.WriteLine(line); err != nil {
		return nil, err
	}
	return cl.reply()
}

// expect turns any code other than want into an error: the server's refusal
// for 4xx/5xx, a protocol violation for a positive reply of the wrong kind.
func expect(r *Reply, want int) error {
	switch {
	case r.Code == want:
		return nil
	case !r.Positive():
		return r.Err()
	}
	return wire.Violation("expected %d, got %q", want, wire.Truncate(r.String(), 120))
}

// Greeting reads the server's 220 greeting.
func (cl *Client) Greeting() (*Reply, error) {
	r, err := cl.reply()
	if err != nil {
		return nil, err
	}
	return r, expect(r, 220)
}

// Hello sends EHLO, falling back to HELO when the server does not know EHLO.
func (cl *Client) Hello(name string) (*Reply, error) {
	r, err := cl.cmd("EHLO " + name)
	if err != nil {
		return nil, err
	}
	if r.Code == 500 || r.Code == 502 {
		if r, err = cl.cmd("HELO " + name); err != nil {
			return nil, err
		}
		cl.ext, cl.ehlo = nil, false
		return r, expect(r, 250)
	}
	if err := expect(r, 250); err != nil {
		return r, err
	}
	cl.ehlo = true
	cl.ext = make([]extension, 0, len(r.Lines)-1)
	for _, l := range r.Lines[1:] {
		k, v, _ := strings.Cut(l, " ")
		k = strings.ToUpper(k) // no copy when it is already
		// AUTH=: the pre-standard form some servers still add.
		if strings.HasPrefix(k, "AUTH=") {
			k, v = "AUTH", strings.TrimPrefix(l, l[:5])
			if i := cl.find(k, equal); i >= 0 {
				v = cl.ext[i].params + " " + v
			}
		}
		i := cl.find(k, equal)
		if i < 0 {
			cl.ext = append(cl.ext, extension{kw: k})
			i = len(cl.ext) - 1
		}
		cl.ext[i].params = v // a keyword said twice: the last word counts
	}
	return r, nil
}

// Ext reports whether the server advertised an extension, and its parameters.
func (cl *Client) Ext(name string) (string, bool) {
	if i := cl.find(name, strings.EqualFold); i >= 0 {
		return cl.ext[i].params, true
	}
	return "", false
}

// Extensions returns the advertised extension keywords, in the server's
// order: a stored result is the same from one test to the next while the
// server says the same.
func (cl *Client) Extensions() []string {
	if cl.ext == nil {
		return nil
	}
	kws := make([]string, len(cl.ext))
	for i, e := range cl.ext {
		kws[i] = e.kw
	}
	return kws
}

// AuthMechanisms returns the mechanisms of the AUTH extension.
func (cl *Client) AuthMechanisms() []string {
	v, ok := cl.Ext("AUTH")
	if !ok {
		return nil
	}
	return strings.Fields(strings.ToUpper(v))
}

// Size returns the SIZE limit the server announced, 0 if none.
func (cl *Client) Size() int64 {
	v, _ := cl.Ext("SIZE")
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

// StartTLS asks for TLS. The caller runs the handshake on the connection
// next and sends EHLO again, since everything learned before is void. A
// refusal is reported as TLS unavailable, with the server's reply.
func (cl *Client) StartTLS() error {
	r, err := cl.cmd("STARTTLS")
	if err != nil {
		return err
	}
	if r.Code != 220 {
		return &wire.ServerError{Reply: r.String(), Temporary: r.Code/100 == 4, Err: wire.ErrTLSUnavailable}
	}
	cl.ext = nil
	return nil
}

const maxAuthSteps = 8

// Auth authenticates with mech. Everything the client sends in the exchange
// is redacted from the transcript; the server's challenges are recorded.
//
// Only a refusal of the credentials is an *wire.AuthError (auth_failed):
// 535 (invalid credentials), 534 (mechanism too weak for this account) and
// 538 (encryption required for this mechanism), RFC 4954 §6. Any other
// refusal is the server's error with its reply (service_error), the
// credentials never judged: 500/501/504 (the command, its base64 or the
// mechanism not understood), 530 (authentication refused altogether, e.g.
// STARTTLS first), and 454 (a temporary failure on the server's side).
func (cl *Client) Auth(mech sasl.Client) error {
	name, ir, err := mech.Start()
	if err != nil {
		return &wire.AuthError{Err: err}
	}
	line, shown := "AUTH "+name, "AUTH "+name
	if ir != nil {
		line += " " + initialResponse(ir)
		shown += " " + wire.Redacted
	}
	if err := cl.conn.WriteRedacted(line, shown); err != nil {
		return err
	}
	for step := 0; ; step++ {
		r, err := cl.reply()
		if err != nil {
			return err
		}
		switch {
		case r.Code == 235:
			return nil
		case r.Code == 334 && step < maxAuthSteps:
			chal, err := base64.StdEncoding.DecodeString(strings.TrimSpace(strings.Join(r.Lines, "")))
			if err != nil {
				return wire.Violation("AUTH challenge is not base64: %q", wire.Truncate(r.String(), 80))
			}
			resp, err := mech.Next(chal)
			if err != nil {
				cl.conn.WriteLine("*") // cancel the exchange (RFC 4954 §4)
				cl.reply()
				return &wire.AuthError{Err: err}
			}
			// An empty response is an empty line: "=" is for an empty
			// initial response only (RFC 4954 §4).
			if err := cl.conn.WriteRedacted(base64.StdEncoding.EncodeToString(resp), wire.Redacted); err != nil {
				return err
			}
		case r.Code == 334:
			return wire.Violation("AUTH exchange did not end after %d challenges", maxAuthSteps)
		case r.Code == 535 || r.Code == 534 || r.Code == 538:
			return &wire.AuthError{Reply: r.String()}
		case !r.Positive():
			return r.Err()
		default:
			return wire.Violation("unexpected reply to AUTH: %q", wire.Truncate(r.String(), 120))
		}
	}
}

// initialResponse encodes the initial response of AUTH; an empty one is
// "=" (RFC 4954 §4), which tells it from none.
func initialResponse(b []byte) string {
	if len(b) == 0 {
		return "="
	}
	return base64.StdEncoding.EncodeToString(b)
}

// Mail starts a transaction.
func (cl *Client) Mail(from string) error {
	r, err := cl.cmd("MAIL FROM:<" + from + ">")
	if err != nil {
		return err
	}
	return expect(r, 250)
}

// Rcpt adds a recipient.
func (cl *Client) Rcpt(to string) error {
	r, err := cl.cmd("RCPT TO:<" + to + ">")
	if err != nil {
		return err
	}
	if r.Code == 251 {
		return nil
	}
	return expect(r, 250)
}

// Data sends a message. msg must use CRLF line endings; dot-stuffing is
// done here. It returns the server's final reply (the queue id is in it).
func (cl *Client) Data(msg []byte) (*Reply, error) {
	r, err := cl.cmd("DATA")
	if err != nil {
		return nil, err
	}
	if err := expect(r, 354); err != nil {
		return r, err
	}
	cl.conn.Transcript().Note(fmt.Sprintf("message of %d bytes", len(msg)))
	if _, err := cl.conn.Write(dotStuff(msg)); err != nil {
		return nil, err
	}
	if r, err = cl.reply(); err != nil {
		return nil, err
	}
	return r, expect(r, 250)
}

func dotStuff(msg []byte) []byte {
	s := strings.ReplaceAll("\r\n"+string(msg), "\r\n.", "\r\n..")[2:]
	if !strings.HasSuffix(s, "\r\n") {
		s += "\r\n"
	}
	return []byte(s + ".\r\n")
}

// Noop sends NOOP.
func (cl *Client) Noop() error {
	r, err := cl.cmd("NOOP")
	if err != nil {
		return err
	}
	return expect(r, 250)
}

// Quit ends the session politely.
func (cl *Client) Quit() error {
	r, err := cl.cmd("QUIT")
	if err != nil {
		return err
	}
	return expect(r, 221)
}
