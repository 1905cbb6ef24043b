// Package fakesmtp runs go-smtp's server as an in-process SMTP fake with a
// recording backend and fault switches, for exact protocol tests.
package fakesmtp

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	gosasl "github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/mailmon/mailmon/internal/testutil/saslsrv"
)

// Options configure a fake.
type Options struct {
	Network  string      // "tcp4" (default, 127.0.0.1) or "tcp6" ([::1])
	TLS      *tls.Config // offers STARTTLS when set
	Implicit bool        // TLS from the first byte (needs TLS)
	Accounts saslsrv.Accounts
	Mechs    []string // advertised AUTH mechanisms; default: all of saslsrv when Accounts are set
	// AllowInsecureAuth offers AUTH before TLS.
	AllowInsecureAuth bool
	// Echo repeats credentials as a careless server does: the accounts'
	// passwords and tokens in the greeting and EHLO reply, and what a client
	// sends in AUTH, decoded and as sent, in the challenges that follow
	// and in the 535 refusal (saslsrv.Echo).
	Echo bool
	// Faults: a non-nil error is the reply to that command.
	FailMail, FailRcpt, FailData *gosmtp.SMTPError
	// OnData runs when a message arrives; e.g. to deliver it to a mailbox fake.
	OnData func(m Message)
}

// Message is one message the fake accepted.
type Message struct {
	From string
	To   []string
	Data []byte
	User string // who authenticated, if anyone
}

// Server is a running fake.
type Server struct {
	Host string
	Port int
	opts Options
	srv  *gosmtp.Server
	mu   sync.Mutex
	msgs []Message
	log  bytes.Buffer
}

// Start runs a fake until the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if o.Network == "" {
		o.Network = "tcp4"
	}
	addr := "127.0.0.1:0"
	if o.Network == "tcp6" {
		addr = "[::1]:0"
	}
	ln, err := net.Listen(o.Network, addr)
	if err != nil {
		t.Fatal(err)
	}
	if o.Implicit {
		ln = tls.NewListener(ln, o.TLS)
	}
	if o.Mechs == nil && (o.Accounts.Passwords != nil || o.Accounts.Tokens != nil) {
		o.Mechs = saslsrv.Mechanisms()
	}
	s := &Server{Host: ln.Addr().(*net.TCPAddr).IP.String(), Port: ln.Addr().(*net.TCPAddr).Port, opts: o}
	srv := gosmtp.NewServer(s)
	srv.Domain = "fake.example"
	if o.Echo {
		srv.Domain += " knows " + strings.Join(o.Accounts.Secrets(), " ")
	}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.AllowInsecureAuth = o.AllowInsecureAuth || o.Implicit
	srv.Debug = lockedWriter{&s.mu, &s.log}
	if !o.Implicit {
		srv.TLSConfig = o.TLS
	}
	s.srv = srv
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, gosmtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			t.Errorf("fake smtp: %v", err)
		}
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return s
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Messages returns what the fake accepted.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Commands returns the command lines the clients sent, in order.
func (s *Server) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range strings.Split(s.log.String(), "\n") {
		// go-smtp's debug log prefixes client lines with nothing and server
		// lines with a reply code; client commands start with a letter.
		l = strings.TrimRight(l, "\r")
		if l != "" && (l[0] < '0' || l[0] > '9') {
			out = append(out, l)
		}
	}
	return out
}

// NewSession implements gosmtp.Backend.
func (s *Server) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	return &session{s: s}, nil
}

type session struct {
	s    *Server
	user string
	msg  Message
}

func (se *session) AuthMechanisms() []string { return se.s.opts.Mechs }

func (se *session) Auth(mech string) (gosasl.Server, error) {
	srv, err := saslsrv.New(mech, se.s.opts.Accounts, func(u string) { se.user = u })
	if err != nil {
		return nil, err
	}
	if se.s.opts.Echo {
		srv = saslsrv.Echo(srv, mech)
	}
	return authFailed{srv}, nil
}

// authFailed makes wrong credentials a 535, as real servers answer; go-smtp
// turns errors of its own kind into 454 (temporary). An echoing exchange's
// refusal repeats what the client sent.
type authFailed struct{ gosasl.Server }

func (a authFailed) Next(resp []byte) ([]byte, bool, error) {
	chal, done, err := a.Server.Next(resp)
	var ee *saslsrv.EchoError
	var se *gosmtp.SMTPError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		err = &gosmtp.SMTPError{Code: 535, EnhancedCode: gosmtp.EnhancedCode{5, 7, 8}, Message: "Authentication failed, " + ee.Error()}
	case !errors.As(err, &se):
		err = gosmtp.ErrAuthFailed
	}
	return chal, done, err
}

func (se *session) Mail(from string, _ *gosmtp.MailOptions) error {
	if e := se.s.opts.FailMail; e != nil {
		return e
	}
	se.msg = Message{From: from, User: se.user}
	return nil
}

func (se *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if e := se.s.opts.FailRcpt; e != nil {
		return e
	}
	se.msg.To = append(se.msg.To, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if e := se.s.opts.FailData; e != nil {
		return e
	}
	se.msg.Data = b
	se.s.mu.Lock()
	se.s.msgs = append(se.s.msgs, se.msg)
	se.s.mu.Unlock()
	if se.s.opts.OnData != nil {
		se.s.opts.OnData(se.msg)
	}
	return nil
}

func (se *session) Reset()        { se.msg = Message{} }
func (se *session) Logout() error { return nil }
