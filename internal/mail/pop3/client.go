package pop3

import (
	"slices"
	"strings"

	"github.com/mailmon/mailmon/internal/wire"
)

// Client is one POP3 session.
type Client struct {
	conn      *wire.Conn
	caps      []string            // CAPA lines, in the server's order
	capMap    map[string][]string // keyword (upper case) → arguments
	capaOK    bool                // the server answered CAPA with a list
	timestamp string              // APOP timestamp of the greeting

	// MessageLines caps the lines of one RETR or TOP response; 0 means the
	// connection's MaxReplyLines.
	MessageLines int
}

// NewClient starts a session on c; the caller reads the greeting next.
func NewClient(c *wire.Conn) *Client { return &Client{conn: c} }

func (cl *Client) status() (*Status, error) { return ReadStatus(cl.conn) }

// cmd sends a line and reads the status line of the response.
func (cl *Client) cmd(line string) (*Status, error) {
	if err := cl.conn.WriteLine(line); err != nil {
		return nil, err
	}
	return cl.status()
}

// ok sends a line and turns -ERR into an error.
func (cl *Client) ok(line string) (*Status, error) {
	st, err := cl.cmd(line)
	if err != nil {
		return nil, err
	}
	if !st.OK {
		return st, st.Err()
	}
	return st, nil
}

func (cl *Client) multiline(max int) ([]string, error) {
	if max <= 0 {
		max = cl.conn.Limits().MaxReplyLines
	}
	return ReadMultiline(cl.conn, max)
}

// Greeting reads the server's greeting. A -ERR greeting is a
// *wire.ServerError carrying the server's words. The APOP timestamp, if the
// greeting has one, is kept for APOP.
func (cl *Client) Greeting() (*Status, error) {
	st, err := cl.status()
	if err != nil {
		return nil, err
	}
	if !st.OK {
		return st, st.Err()
	}
	cl.timestamp = apopTimestamp(st.Text)
	return st, nil
}

// Timestamp returns the APOP timestamp of the greeting ("<…@…>"), or "".
func (cl *Client) Timestamp() string { return cl.timestamp }

// apopTimestamp finds the msg-id shaped timestamp of RFC 1939 §7 in the
// greeting's text: "<" local "@" domain ">", without white space.
func apopTimestamp(text string) string {
	start := strings.IndexByte(text, '<')
	if start < 0 {
		return ""
	}
	end := strings.IndexByte(text[start:], '>')
	if end < 0 {
		return ""
	}
	ts := text[start : start+end+1]
	inner := ts[1 : len(ts)-1]
	at := strings.IndexByte(inner, '@')
	if at <= 0 || at == len(inner)-1 {
		return ""
	}
	for i := 0; i < len(inner); i++ {
		if b := inner[i]; b <= 0x20 || b >= 0x7f || b == '<' {
			return ""
		}
	}
	return ts
}

// Capa asks for the capabilities (RFC 2449). A server that answers -ERR has
// none to tell, which is not a failure: Capa then returns no lines and nil.
// The previous capabilities are forgotten either way.
func (cl *Client) Capa() ([]string, error) {
	cl.caps, cl.capMap, cl.capaOK = nil, nil, false
	st, err := cl.cmd("CAPA")
	if err != nil {
		return nil, err
	}
	if !st.OK {
		return nil, nil
	}
	lines, err := cl.multiline(cl.conn.Limits().MaxReplyLines)
	if err != nil {
		return nil, err
	}
	cl.capaOK = true
	cl.capMap = make(map[string][]string, len(lines))
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		cl.caps = append(cl.caps, l)
		cl.capMap[strings.ToUpper(f[0])] = f[1:]
	}
	return cl.caps, nil
}

// CapaOK reports whether the server answered the last CAPA with a list.
func (cl *Client) CapaOK() bool { return cl.capaOK }

// Capabilities returns the capability lines of the last CAPA, as sent.
func (cl *Client) Capabilities() []string { return slices.Clone(cl.caps) }

// Cap reports whether the server advertised a capability, and its arguments.
func (cl *Client) Cap(name string) ([]string, bool) {
	args, ok := cl.capMap[strings.ToUpper(name)]
	return args, ok
}

// SASL returns the mechanisms of the SASL capability, in upper case.
func (cl *Client) SASL() []string {
	args, _ := cl.Cap("SASL")
	out := make([]string, len(args))
	for i, m := range args {
		out[i] = strings.ToUpper(m)
	}
	return out
}

// StartTLS sends STLS (RFC 2595). On +OK the caller runs the handshake on
// the connection next and asks CAPA again, since everything learned before
// TLS is void. A refusal is reported as TLS unavailable, with the reply.
func (cl *Client) StartTLS() error {
	st, err := cl.cmd("STLS")
	if err != nil {
		return err
	}
	if !st.OK {
		return &wire.ServerError{Reply: st.String(), Temporary: st.Temporary(), Err: wire.ErrTLSUnavailable}
	}
	cl.caps, cl.capMap, cl.capaOK = nil, nil, false
	return nil
}

// Noop sends NOOP.
func (cl *Client) Noop() error {
	_, err := cl.ok("NOOP")
	return err
}

// Rset unmarks the messages marked as deleted in this session.
func (cl *Client) Rset() error {
	_, err := cl.ok("RSET")
	return err
}

// Quit ends the session. After a login the server then removes the messages
// marked as deleted; a -ERR says some could not be removed.
func (cl *Client) Quit() error {
	_, err := cl.ok("QUIT")
	return err
}
