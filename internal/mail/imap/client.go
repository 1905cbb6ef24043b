package imap

import (
	"slices"
	"strconv"
	"strings"

	"github.com/mailmon/mailmon/internal/wire"
)

// Options tune a client. Zero fields take their defaults.
type Options struct {
	MaxLiteral  int64 // largest literal the server may send; default 1 MiB
	MaxLiterals int   // literals in one response; default 64
}

// Defaults of Options.
const (
	DefaultMaxLiteral  = 1 << 20
	DefaultMaxLiterals = 64
)

// Client is one IMAP session. It runs one command at a time.
type Client struct {
	conn     *wire.Conn
	lim      ResponseLimits
	maxLines int
	tags     int

	caps      map[string]bool // upper case
	capList   []string        // as the server wrote them
	capsSeen  int             // capability lists received, to tell a command brought one
	bye       *Status         // the server's BYE, once it said it
	expectBye bool            // during LOGOUT
	pending   *Pending
	watch     func(*Response) // sees every untagged response; see Watch
}

// NewClient starts a session on c; the caller reads the greeting next.
func NewClient(c *wire.Conn, opts Options) *Client {
	if opts.MaxLiteral <= 0 {
		opts.MaxLiteral = DefaultMaxLiteral
	}
	if opts.MaxLiterals <= 0 {
		opts.MaxLiterals = DefaultMaxLiterals
	}
	maxLines := c.Limits().MaxReplyLines
	if maxLines <= 0 {
		maxLines = wire.DefaultLimits().MaxReplyLines
	}
	return &Client{
		conn:     c,
		lim:      ResponseLimits{MaxLiteral: opts.MaxLiteral, MaxLiterals: opts.MaxLiterals},
		maxLines: maxLines,
	}
}

// Conn returns the connection the client speaks over.
func (cl *Client) Conn() *wire.Conn { return cl.conn }

// Greeting reads the server's greeting: "* OK" or "* PREAUTH" (already
// logged in). "* BYE" is a refusal (a *wire.ServerError); anything else is a
// protocol violation. A CAPABILITY code in the greeting is kept.
func (cl *Client) Greeting() (*Status, error) {
	r, err := ReadResponse(cl.conn, cl.lim)
	if err != nil {
		return nil, err
	}
	if !r.Untagged() {
		return nil, wire.Violation("greeting is not an untagged status: %q", wire.Truncate(r.String(), 80))
	}
	st, err := r.Status()
	if err != nil {
		return nil, err
	}
	switch st.Type {
	case OK, PREAUTH:
		cl.codeCaps(st)
		return st, nil
	case BYE:
		cl.bye = st
		return st, st.Err()
	}
	return st, wire.Violation("greeting is %q, not OK, PREAUTH or BYE", wire.Truncate(st.String(), 80))
}

// Caps returns the capabilities the server advertised last, as it wrote
// them.
func (cl *Client) Caps() []string { return slices.Clone(cl.capList) }

// HasCaps reports whether the client knows the server's capabilities.
func (cl *Client) HasCaps() bool { return cl.caps != nil }

// Has reports whether the server advertised capability name.
func (cl *Client) Has(name string) bool { return cl.caps[strings.ToUpper(name)] }

// AuthMechanisms returns the SASL mechanisms of the AUTH= capabilities.
func (cl *Client) AuthMechanisms() []string {
	var out []string
	for _, c := range cl.capList {
		if len(c) > 5 && strings.EqualFold(c[:5], "AUTH=") {
			out = append(out, strings.ToUpper(c[5:]))
		}
	}
	return out
}

func (cl *Client) setCaps(list []string) {
	cl.capsSeen++
	cl.caps = make(map[string]bool, len(list))
	cl.capList = cl.capList[:0]
	for _, c := range list {
		if c == "" {
			continue
		}
		c = wire.Sanitize(c)
		cl.caps[strings.ToUpper(c)] = true
		cl.capList = append(cl.capList, c)
	}
}

// codeCaps keeps the capabilities of a [CAPABILITY ...] response code,
// which saves the round trip of a CAPABILITY command.
func (cl *Client) codeCaps(st *Status) {
	if st.Code == "CAPABILITY" {
		cl.setCaps(strings.Fields(st.CodeArg))
	}
}

// Bye is the server's BYE, if it sent one; the session is over then.
func (cl *Client) Bye() *Status { return cl.bye }

// Pending is a command sent and not yet completed.
type Pending struct {
	cl    *Client
	Tag   string
	Name  string
	lines int
	queue []*Response // responses read while sending literals
	done  bool
}

// Start sends a command with the next tag (a1, a2, ...). A string argument
// that must be a literal is sent as one: with LITERAL+ (or LITERAL- for a
// small one) without waiting, otherwise after the server's continuation
// request. The transcript shows Secret arguments, and a secret literal's
// size, as [redacted].
func (cl *Client) Start(name string, args ...Arg) (*Pending, error) {
	if cl.pending != nil && !cl.pending.done {
		return nil, wire.Violation("command %s started while %s is still running", name, cl.pending.Name)
	}
	for _, a := range args {
		if strings.IndexByte(a.s, 0) >= 0 || a.kind == argAtom && strings.ContainsAny(a.s, "\r\n") {
			return nil, errUnsendable
		}
	}
	cl.tags++
	p := &Pending{cl: cl, Tag: "a" + strconv.Itoa(cl.tags), Name: name}
	cl.pending = p
	var line, shown strings.Builder
	line.WriteString(p.Tag + " " + name)
	shown.WriteString(p.Tag + " " + name)
	for _, a := range args {
		line.WriteByte(' ')
		shown.WriteByte(' ')
		s := a.s
		switch a.kind {
		case argAtom:
			line.WriteString(s)
			if a.secret {
				shown.WriteString(wire.Redacted)
			} else {
				shown.WriteString(s)
			}
			continue
		case argMailbox:
			s = cl.mailboxName(s)
		}
		if quotable(s) {
			line.WriteString(quote(s))
			if a.secret {
				shown.WriteString(wire.Redacted)
			} else {
				shown.WriteString(quote(s))
			}
			continue
		}
		// A literal: the line so far ends with its announcement.
		sync := !(cl.Has("LITERAL+") || len(s) <= 4096 && (cl.Has("LITERAL-") || cl.Has("IMAP4rev2")))
		ann := "{" + strconv.Itoa(len(s))
		if !sync {
			ann += "+"
		}
		ann += "}"
		line.WriteString(ann)
		if a.secret {
			shown.WriteString(wire.Redacted) // not even its length
		} else {
			shown.WriteString(ann)
		}
		if err := cl.conn.WriteRedacted(line.String(), shown.String()); err != nil {
			return nil, err
		}
		line.Reset()
		shown.Reset()
		if sync {
			if err := p.awaitContinuation(); err != nil || p.done {
				return p, err
			}
		}
		if _, err := cl.conn.Write([]byte(s)); err != nil {
			return nil, err
		}
		if a.secret {
			shown.WriteString(wire.Redacted)
		} else {
			shown.WriteString(s)
		}
	}
	if err := cl.conn.WriteRedacted(line.String(), shown.String()); err != nil {
		return nil, err
	}
	return p, nil
}

// mailboxName encodes a mailbox name for the server: modified UTF-7, except
// for a server that speaks only IMAP4rev2, which takes UTF-8.
func (cl *Client) mailboxName(name string) string {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	if cl.Has("IMAP4rev2") && !cl.Has("IMAP4rev1") {
		return name
	}
	return EncodeMailbox(name)
}

// awaitContinuation reads until the server asks for a literal. Data
// responses before it are kept for Next; a tagged completion (the server
// refused the command) ends the command.
func (p *Pending) awaitContinuation() error {
	for {
		r, err := p.read()
		if err != nil {
			return err
		}
		switch {
		case r.Continuation():
			return nil
		case r.Tag == p.Tag:
			p.queue = append(p.queue, r)
			p.done = true
			return nil
		default:
			p.queue = append(p.queue, r)
		}
	}
}

// read reads one response of this command, applying the caps: lines per
// command, a BYE ends the session, a foreign tag is a violation.
// Capabilities the server volunteers are kept.
func (p *Pending) read() (*Response, error) {
	cl := p.cl
	r, err := ReadResponse(cl.conn, cl.lim)
	if err != nil {
		return nil, err
	}
	p.lines += len(r.Lines)
	if p.lines > cl.maxLines {
		return nil, wire.Violation("more than %d lines in response to %s", cl.maxLines, p.Name)
	}
	switch {
	case r.Continuation():
	case r.Untagged():
		if err := cl.absorb(r); err != nil {
			return nil, err
		}
	case r.Tag != p.Tag:
		return nil, wire.Violation("response with tag %q to command %s", wire.Truncate(wire.Sanitize(r.Tag), 20), p.Tag)
	}
	return r, nil
}

// Watch has fn see every untagged response of every command, before the
// command's own handler: the news of the selected mailbox (EXISTS, EXPUNGE)
// may come with any command, and a client that follows the mailbox must not
// miss it. fn runs on the goroutine reading the response (during Idle, not
// the caller's); nil stops watching.
func (cl *Client) Watch(fn func(*Response)) { cl.watch = fn }

// absorb handles what any untagged response means for the session.
func (cl *Client) absorb(r *Response) error {
	if cl.watch != nil {
		cl.watch(r)
	}
	switch r.Name() {
	case BYE:
		st, err := r.Status()
		if err != nil {
			return err
		}
		cl.bye = st
		if !cl.expectBye {
			return st.Err()
		}
	case OK:
		st, err := r.Status()
		if err != nil {
			return err
		}
		cl.codeCaps(st)
	case "CAPABILITY":
		fs, err := r.Fields()
		if err != nil {
			return err
		}
		list := make([]string, 0, len(fs)-1)
		for _, f := range fs[1:] {
			if f.Kind != AtomField {
				return wire.Violation("capability that is not an atom in %q", wire.Truncate(r.String(), 80))
			}
			list = append(list, f.Text)
		}
		cl.setCaps(list)
	}
	return nil
}

// Next returns the command's next response: untagged data, a continuation
// request, or, last, its tagged completion (Tag == p.Tag). Untagged
// responses have been absorbed already (capabilities kept, BYE an error).
func (p *Pending) Next() (*Response, error) {
	if len(p.queue) > 0 {
		r := p.queue[0]
		p.queue = p.queue[1:]
		return r, nil
	}
	if p.done {
		return nil, wire.Violation("command %s read past its completion", p.Tag)
	}
	r, err := p.read()
	if err != nil {
		return nil, err
	}
	if r.Tag == p.Tag {
		p.done = true
	}
	return r, nil
}

// Continue sends a line inside the command (an AUTHENTICATE response, the
// DONE of IDLE), recording shown in the transcript.
func (p *Pending) Continue(line, shown string) error {
	return p.cl.conn.WriteRedacted(line, shown)
}

// Handler sees each untagged response of a command.
type Handler func(*Response) error

// Wait reads to the command's completion, handing untagged responses to
// handle (which may be nil), and returns the completion. A continuation
// request is a protocol violation here.
func (p *Pending) Wait(handle Handler) (*Status, error) {
	for {
		r, err := p.Next()
		if err != nil {
			return nil, err
		}
		switch {
		case r.Tag == p.Tag:
			st, err := r.Status()
			if err != nil {
				return nil, err
			}
			p.cl.codeCaps(st)
			return st, nil
		case r.Continuation():
			return nil, wire.Violation("unexpected continuation request %q to %s", wire.Truncate(r.String(), 80), p.Name)
		case handle != nil:
			if err := handle(r); err != nil {
				return nil, err
			}
		}
	}
}

// Do runs a command to completion. The completion is returned whatever it
// is; the error is its refusal (a *wire.ServerError for NO or BAD) or what
// broke the exchange.
func (cl *Client) Do(handle Handler, name string, args ...Arg) (*Status, error) {
	p, err := cl.Start(name, args...)
	if err != nil {
		return nil, err
	}
	st, err := p.Wait(handle)
	if err != nil {
		return nil, err
	}
	return st, st.Err()
}
