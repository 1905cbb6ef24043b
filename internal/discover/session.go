package discover

import (
	"slices"
	"strings"

	"github.com/mailmon/mailmon/internal/mail/imap"
	"github.com/mailmon/mailmon/internal/mail/pop3"
	"github.com/mailmon/mailmon/internal/mail/smtp"
	"github.com/mailmon/mailmon/internal/wire"
)

// session is one protocol's side of a discovery: the few steps every
// protocol has, done by mailmon's own client of that protocol.
type session interface {
	greet() (string, error)
	capabilities() error // EHLO, CAPA, CAPABILITY
	startTLSOffered() bool
	mechanisms() []string // how one could log in now: SASL mechanisms and the USER, APOP, LOGIN commands
	facts(s *Service)     // extensions, size limit, capabilities
	startTLS() error      // the STARTTLS (STLS) command; the caller runs the handshake
	quit()
	// injection sends STARTTLS and a NOOP in one write and reads the reply
	// to STARTTLS: ok when the server agreed to start TLS.
	injection() (ok bool, reply string, err error)
	// noopAnswer reports whether a line the server sent after agreeing to
	// STARTTLS, in plaintext or inside TLS (inTLS), is a reply to the NOOP
	// sent behind STARTTLS, rather than words about TLS ("454 TLS
	// negotiation failed").
	noopAnswer(line string, inTLS bool) bool
}

func newSession(protocol string, c *wire.Conn, ehlo string) session {
	switch protocol {
	case "smtp":
		return &smtpSession{c: c, cl: smtp.NewClient(c), ehlo: ehlo}
	case "pop3":
		return &pop3Session{c: c, cl: pop3.NewClient(c)}
	}
	return &imapSession{c: c, cl: imap.NewClient(c, imap.Options{})}
}

// maxListed bounds the extensions and capabilities a server can put in a
// report.
const maxListed = 64

func listed(in []string) []string {
	out := make([]string, 0, min(len(in), maxListed))
	for _, s := range in {
		if len(out) == maxListed {
			break
		}
		out = append(out, wire.Truncate(wire.Sanitize(s), 120))
	}
	return out
}

type smtpSession struct {
	c    *wire.Conn
	cl   *smtp.Client
	ehlo string
}

func (s *smtpSession) greet() (string, error) {
	r, err := s.cl.Greeting()
	if r != nil {
		return r.String(), err
	}
	return "", err
}

func (s *smtpSession) capabilities() error {
	_, err := s.cl.Hello(s.ehlo)
	return err
}

func (s *smtpSession) startTLSOffered() bool {
	_, ok := s.cl.Ext("STARTTLS")
	return ok
}

func (s *smtpSession) mechanisms() []string { return listed(s.cl.AuthMechanisms()) }

func (s *smtpSession) facts(sv *Service) {
	ext := s.cl.Extensions()
	slices.Sort(ext)
	sv.Extensions = listed(ext)
	sv.SizeLimit = s.cl.Size()
}

func (s *smtpSession) startTLS() error { return s.cl.StartTLS() }
func (s *smtpSession) quit()           { s.cl.Quit() }

func (s *smtpSession) injection() (bool, string, error) {
	if err := s.capabilities(); err != nil {
		return false, "", err
	}
	s.c.Transcript().Client("STARTTLS")
	s.c.Transcript().Client("NOOP (in the same write)")
	if _, err := s.c.Write([]byte("STARTTLS\r\nNOOP\r\n")); err != nil {
		return false, "", err
	}
	r, err := smtp.ReadReply(s.c, s.c.Limits().MaxReplyLines)
	if err != nil {
		return false, "", err
	}
	return r.Code == 220, r.String(), nil
}

// noopAnswer: NOOP is answered 250 (RFC 5321 §4.1.1.9).
func (s *smtpSession) noopAnswer(line string, _ bool) bool {
	code, ok := smtp.ReplyCode(line)
	return ok && code == 250
}

type pop3Session struct {
	c  *wire.Conn
	cl *pop3.Client
}

func (s *pop3Session) greet() (string, error) {
	st, err := s.cl.Greeting()
	if st != nil {
		return wire.Truncate(st.String(), 512), err
	}
	return "", err
}

func (s *pop3Session) capabilities() error {
	_, err := s.cl.Capa()
	return err
}

func (s *pop3Session) startTLSOffered() bool {
	_, ok := s.cl.Cap("STLS")
	return ok
}

func (s *pop3Session) mechanisms() []string {
	var out []string
	if _, ok := s.cl.Cap("USER"); ok {
		out = append(out, "USER")
	}
	if s.cl.Timestamp() != "" {
		out = append(out, "APOP")
	}
	return listed(append(out, s.cl.SASL()...))
}

func (s *pop3Session) facts(sv *Service) { sv.Capabilities = listed(s.cl.Capabilities()) }
func (s *pop3Session) startTLS() error   { return s.cl.StartTLS() }
func (s *pop3Session) quit()             { s.cl.Quit() }

func (s *pop3Session) injection() (bool, string, error) {
	s.c.Transcript().Client("STLS")
	s.c.Transcript().Client("NOOP (in the same write)")
	if _, err := s.c.Write([]byte("STLS\r\nNOOP\r\n")); err != nil {
		return false, "", err
	}
	st, err := pop3.ReadStatus(s.c)
	if err != nil {
		return false, "", err
	}
	return st.OK, st.String(), nil
}

// noopAnswer: POP3 has no tags. Before TLS, after "+OK Begin TLS", a
// "-ERR" may refuse the NOOP (not allowed before login) or the TLS that
// failed on it: only "+OK" proves the NOOP answered. Inside TLS nothing else
// is outstanding, so either status answers it.
func (s *pop3Session) noopAnswer(line string, inTLS bool) bool {
	st, err := pop3.ParseStatus(line)
	return err == nil && (st.OK || inTLS)
}

type imapSession struct {
	c  *wire.Conn
	cl *imap.Client
}

func (s *imapSession) greet() (string, error) {
	st, err := s.cl.Greeting()
	if st != nil {
		return st.String(), err
	}
	return "", err
}

func (s *imapSession) capabilities() error {
	if s.cl.HasCaps() {
		return nil // the greeting's CAPABILITY code told them
	}
	_, err := s.cl.Capability()
	return err
}

func (s *imapSession) startTLSOffered() bool { return s.cl.Has("STARTTLS") }

func (s *imapSession) mechanisms() []string {
	var out []string
	if !s.cl.Has("LOGINDISABLED") {
		out = append(out, "LOGIN")
	}
	for _, m := range s.cl.AuthMechanisms() {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return listed(out)
}

func (s *imapSession) facts(sv *Service) { sv.Capabilities = listed(s.cl.Caps()) }
func (s *imapSession) startTLS() error   { return s.cl.StartTLS() }
func (s *imapSession) quit()             { s.cl.Logout() }

// The tags of the injection test's two commands.
const (
	injTagStartTLS = "m1"
	injTagNoop     = "m2"
)

func (s *imapSession) injection() (bool, string, error) {
	s.c.Transcript().Client(injTagStartTLS + " STARTTLS")
	s.c.Transcript().Client(injTagNoop + " NOOP (in the same write)")
	if _, err := s.c.Write([]byte(injTagStartTLS + " STARTTLS\r\n" + injTagNoop + " NOOP\r\n")); err != nil {
		return false, "", err
	}
	lim := imap.ResponseLimits{MaxLiteral: 1 << 16, MaxLiterals: 4}
	for range 20 { // untagged responses may come first
		r, err := imap.ReadResponse(s.c, lim)
		if err != nil {
			return false, "", err
		}
		if !strings.EqualFold(r.Tag, injTagStartTLS) {
			continue
		}
		st, err := r.Status()
		if err != nil {
			return false, "", err
		}
		return st.Type == imap.OK, st.String(), nil
	}
	return false, "", wire.Violation("no tagged reply to STARTTLS")
}

// noopAnswer: a response tagged with the NOOP's tag, whatever its status.
func (s *imapSession) noopAnswer(line string, _ bool) bool {
	tag, _, _ := strings.Cut(line, " ")
	return strings.EqualFold(tag, injTagNoop)
}
