package imap

import (
	"encoding/base64"
	"errors"
	"io"
	"strings"

	"github.com/mailmon/mailmon/internal/sasl"
	"github.com/mailmon/mailmon/internal/wire"
)

// Capability asks for the server's capabilities. A server must answer with
// a capability list that names IMAP4rev1 or IMAP4rev2.
func (cl *Client) Capability() ([]string, error) {
	before := cl.capsSeen
	if _, err := cl.Do(nil, "CAPABILITY"); err != nil {
		return nil, err
	}
	if cl.capsSeen == before {
		return nil, wire.Violation("CAPABILITY completed without a capability list")
	}
	if !cl.Has("IMAP4rev1") && !cl.Has("IMAP4rev2") {
		return nil, wire.Violation("capability list names neither IMAP4rev1 nor IMAP4rev2: %q", wire.Truncate(strings.Join(cl.capList, " "), 120))
	}
	return cl.Caps(), nil
}

// StartTLS asks for TLS. The caller runs the handshake on the connection
// next (wire.Conn.StartTLS refuses plaintext the server sent after its OK)
// and asks for the capabilities again, since what was learned before TLS is
// void. A refusal is a *wire.ServerError wrapping wire.ErrTLSUnavailable.
func (cl *Client) StartTLS() error {
	st, err := cl.Do(nil, "STARTTLS")
	if st != nil && st.Type != OK {
		return &wire.ServerError{Reply: st.String(), Temporary: st.Temporary(), Err: wire.ErrTLSUnavailable}
	}
	if err != nil {
		return err
	}
	cl.caps, cl.capList = nil, nil
	return nil
}

// authErr turns the refusal of LOGIN or AUTHENTICATE into an error: NO is a
// rejection of the credentials unless the server says the failure is
// temporary (UNAVAILABLE, SERVERBUG); BAD is a service error.
func authErr(st *Status) error {
	if st.Type == NO && !st.Temporary() {
		return &wire.AuthError{Reply: st.String()}
	}
	return st.Err()
}

// Login logs in with the LOGIN command. The password is sent as a quoted
// string, or a literal when it must be, and the transcript shows the line
// as `a2 LOGIN "user" [redacted]`.
func (cl *Client) Login(user, password string) error {
	st, err := cl.Do(nil, "LOGIN", String(user), Secret(password))
	if st != nil && st.Type != OK {
		return authErr(st)
	}
	return err
}

const maxAuthSteps = 8

// Authenticate runs AUTHENTICATE with mech. The initial response goes on the
// command line when the server takes SASL-IR (or speaks IMAP4rev2), else in
// answer to the first continuation request. Every line the client sends in
// the exchange is redacted from the transcript; the server's challenges are
// recorded.
func (cl *Client) Authenticate(mech sasl.Client) error {
	name, ir, err := mech.Start()
	if err != nil {
		return &wire.AuthError{Err: err}
	}
	args := []Arg{Atom(name)}
	if ir != nil && (cl.Has("SASL-IR") || cl.Has("IMAP4rev2")) {
		enc := "=" // an empty initial response (RFC 4959 §3)
		if len(ir) > 0 {
			enc = base64.StdEncoding.EncodeToString(ir)
		}
		args = append(args, Arg{s: enc, kind: argAtom, secret: true})
		ir = nil
	}
	p, err := cl.Start("AUTHENTICATE", args...)
	if err != nil {
		return err
	}
	for steps := 0; ; {
		r, err := p.Next()
		if err != nil {
			return err
		}
		switch {
		case r.Tag == p.Tag:
			st, err := r.Status()
			if err != nil {
				return err
			}
			cl.codeCaps(st)
			if st.Type != OK {
				return authErr(st)
			}
			return nil
		case !r.Continuation():
			continue // untagged, absorbed already
		case steps >= maxAuthSteps:
			return cl.cancel(p, wire.Violation("AUTHENTICATE did not end after %d challenges", maxAuthSteps))
		}
		steps++
		var resp []byte
		text := strings.TrimSpace(r.Text())
		if text == "=" {
			text = "" // an empty challenge as some servers write it (RFC 4959's form)
		}
		if ir != nil && text == "" {
			resp, ir = ir, nil
		} else {
			chal, err := base64.StdEncoding.DecodeString(text)
			if err != nil {
				return cl.cancel(p, wire.Violation("AUTHENTICATE challenge is not base64: %q", wire.Truncate(r.String(), 80)))
			}
			if resp, err = mech.Next(chal); err != nil {
				return cl.cancel(p, &wire.AuthError{Err: err})
			}
		}
		// An empty response is an empty line.
		if err := p.Continue(base64.StdEncoding.EncodeToString(resp), wire.Redacted); err != nil {
			return err
		}
	}
}

// cancel ends an AUTHENTICATE exchange with "*" and reads the server's
// answer, so that the session stays in step; why is what is returned.
func (cl *Client) cancel(p *Pending, why error) error {
	if err := p.Continue("*", "*"); err != nil {
		return why
	}
	for {
		r, err := p.Next()
		if err != nil || r.Tag == p.Tag {
			var ae *wire.AuthError
			if errors.As(why, &ae) && r != nil {
				if st, err := r.Status(); err == nil {
					ae.Reply = st.String()
				}
			}
			return why
		}
		if r.Continuation() {
			return why // a server that keeps asking: give up on the session
		}
	}
}

// MailboxInfo is what SELECT or EXAMINE tells of a mailbox.
type MailboxInfo struct {
	Name        string
	Exists      uint32 // messages in the mailbox
	UIDValidity uint32
	UIDNext     uint32
	ReadOnly    bool
}

// Select opens a mailbox read-write.
func (cl *Client) Select(name string) (*MailboxInfo, error) { return cl.open("SELECT", name) }

// Examine opens a mailbox read-only: nothing in it changes, not even the
// \Recent flags.
func (cl *Client) Examine(name string) (*MailboxInfo, error) { return cl.open("EXAMINE", name) }

func (cl *Client) open(cmd, name string) (*MailboxInfo, error) {
	mb := &MailboxInfo{Name: name}
	exists := false
	handle := func(r *Response) error {
		switch r.Name() {
		case "EXISTS":
			n, ok := r.Number()
			if !ok {
				return wire.Violation("malformed EXISTS: %q", wire.Truncate(r.String(), 80))
			}
			mb.Exists, exists = n, true
		case OK:
			st, err := r.Status()
			if err != nil {
				return err
			}
			switch st.Code {
			case "UIDVALIDITY":
				mb.UIDValidity, err = codeNumber(st)
			case "UIDNEXT":
				mb.UIDNext, err = codeNumber(st)
			}
			return err
		}
		return nil
	}
	st, err := cl.Do(handle, cmd, Mailbox(name))
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, wire.Violation("%s completed without an EXISTS response", cmd)
	}
	mb.ReadOnly = st.Code == "READ-ONLY" || cmd == "EXAMINE" && st.Code != "READ-WRITE"
	return mb, nil
}

func codeNumber(st *Status) (uint32, error) {
	n, ok := parseNumber(strings.TrimSpace(st.CodeArg))
	if !ok {
		return 0, wire.Violation("malformed %s response code: %q", st.Code, wire.Truncate(st.String(), 80))
	}
	return n, nil
}

// MailboxStatus is what STATUS tells of a mailbox.
type MailboxStatus struct {
	Name     string
	Messages uint32
	UIDNext  uint32
	Unseen   uint32
}

// Status asks for a mailbox's message count, next UID and unseen count
// without opening it.
func (cl *Client) Status(name string) (*MailboxStatus, error) {
	ms := &MailboxStatus{Name: name}
	seen := false
	handle := func(r *Response) error {
		if r.Name() != "STATUS" {
			return nil
		}
		fs, err := r.Fields()
		if err != nil {
			return err
		}
		if len(fs) != 3 || fs[2].Kind != ListField || len(fs[2].List)%2 != 0 {
			return wire.Violation("malformed STATUS response: %q", wire.Truncate(r.String(), 80))
		}
		if _, ok := fs[1].AString(); !ok {
			return wire.Violation("malformed STATUS response: %q", wire.Truncate(r.String(), 80))
		}
		items := fs[2].List
		for i := 0; i < len(items); i += 2 {
			n, ok := items[i+1].Number()
			if !ok || items[i].Kind != AtomField {
				return wire.Violation("malformed STATUS response: %q", wire.Truncate(r.String(), 80))
			}
			switch strings.ToUpper(items[i].Text) {
			case "MESSAGES":
				ms.Messages, seen = n, true
			case "UIDNEXT":
				ms.UIDNext = n
			case "UNSEEN":
				ms.Unseen = n
			}
		}
		return nil
	}
	if _, err := cl.Do(handle, "STATUS", Mailbox(name), Atom("(MESSAGES UIDNEXT UNSEEN)")); err != nil {
		return nil, err
	}
	if !seen {
		return nil, wire.Violation("STATUS completed without the MESSAGES count")
	}
	return ms, nil
}

// Noop does nothing; the server may report changes meanwhile.
func (cl *Client) Noop() error {
	_, err := cl.Do(nil, "NOOP")
	return err
}

// Logout ends the session politely: the server says BYE, then completes
// the command. After a BYE already received there is nothing to say.
func (cl *Client) Logout() error {
	if cl.bye != nil {
		return nil
	}
	cl.expectBye = true
	defer func() { cl.expectBye = false }()
	st, err := cl.Do(nil, "LOGOUT")
	if err != nil {
		// A server that closes right after its BYE has said goodbye.
		if cl.bye != nil && st == nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
			cl.conn.Transcript().Note("the server closed the connection after BYE without completing LOGOUT")
			return nil
		}
		return err
	}
	if cl.bye == nil {
		return wire.Violation("LOGOUT completed without BYE")
	}
	return nil
}
