// Package fakepop3 is the tests' POP3 server: the project's one POP3 server
// (mail/pop3server) on a free loopback port, with an account list that
// takes OAuth tokens too, SASL PLAIN, LOGIN, CRAM-MD5, XOAUTH2 and
// OAUTHBEARER, and fault switches on top. It records every line it
// receives, secrets as received, so tests can check what the client really
// sent. Everything is closed and waited for at the test's cleanup.
package fakepop3

import (
	"crypto/tls"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mailmon/mailmon/internal/mail/pop3server"
	"github.com/mailmon/mailmon/internal/testutil/certs"
)

// User is an account of the fake.
type User struct {
	Name     string
	Password string
	Token    string // OAuth2 bearer token taken by XOAUTH2 and OAUTHBEARER
}

// Options configure a server. The zero value is a plaintext server that
// advertises USER and nothing else.
type Options struct {
	IPv6     bool        // listen on [::1] instead of 127.0.0.1
	Implicit bool        // TLS from the first byte
	STLS     bool        // offer STLS
	TLS      *tls.Config // server certificate; nil: one from a fresh CA (Server.CAFile)
	APOP     bool        // a timestamp in the greeting, and APOP accepted
	SASL     []string    // mechanisms offered: PLAIN, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER
	NoUSER   bool        // neither advertise nor accept USER/PASS
	Users    []User

	// Faults.
	Greeting     string // sent instead of the normal greeting (one line, CRLF added)
	FailCapa     bool   // answer CAPA with -ERR, as a server without CAPA does
	RefuseSTLS   bool   // advertise STLS, answer it with -ERR
	AuthNeedsTLS bool   // refuse USER, APOP and AUTH before TLS with -ERR [AUTH] (Dovecot's disable_plaintext_auth)
	AuthCode     string // response code of a failed login ("SYS/TEMP", "IN-USE"); default AUTH
	FailStat     bool   // answer STAT with -ERR [SYS/TEMP]
	// DiscardAfterSTLS drops what a client sent behind STLS, as a safe
	// server does (discovery's injection test sends a NOOP there); without
	// it, bytes behind STLS fail the test.
	DiscardAfterSTLS bool
	// Echo repeats credentials as a careless server does: the users'
	// passwords and tokens in the greeting; each login command line as
	// received in its reply, failed or not; what a client sends in AUTH,
	// decoded and as sent (saslsrv.Echo); and all of it again in the reply
	// to QUIT.
	Echo bool
	// Override, if set, sees every command first; when it returns true, its
	// reply (lines without CRLF) is sent instead of the normal one.
	Override func(c Command) (reply []string, handled bool)
}

// Command is one line the server received.
type Command = pop3server.Command

// Read is a RETR or TOP the server answered: which message was read, so
// tests can prove a client never read what it had no business reading.
type Read = pop3server.Read

// Message is a message of a maildrop.
type Message = pop3server.Message

// Server is a running fake.
type Server struct {
	Host   string
	Port   int
	CA     *certs.CA // the CA that signed the certificate, when the server made it
	CAFile string    // its PEM file

	t    testing.TB
	opts Options
	srv  *pop3server.Server

	mu       sync.Mutex
	commands []Command
	reads    []Read
	echo     map[int]*echo // connection → what its logins repeat (Options.Echo)
}

// Start listens on a free loopback port.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	host := "127.0.0.1"
	if opts.IPv6 {
		host = "::1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		if opts.IPv6 {
			t.Skipf("no IPv6 loopback: %v", err)
		}
		t.Fatal(err)
	}
	s := &Server{Host: host, Port: ln.Addr().(*net.TCPAddr).Port, t: t, opts: opts, echo: map[int]*echo{}}
	cfg := opts.TLS
	if cfg == nil && (opts.Implicit || opts.STLS) {
		s.CA = certs.NewCA(t)
		s.CAFile = s.CA.File(t)
		cfg = certs.ServerConfig(s.CA.Issue(t, certs.Leaf{}))
	}
	users := map[string]string{}
	for _, u := range opts.Users {
		users[u.Name] = u.Password
	}
	banner := "fakepop3 ready"
	if opts.Echo {
		banner += " and knows " + strings.Join(s.accounts().Secrets(), " ")
	}
	s.srv = pop3server.New(pop3server.Options{
		Banner: banner, Implementation: "fakepop3", Greeting: opts.Greeting,
		TLS: cfg, Implicit: opts.Implicit, STLS: opts.STLS || opts.RefuseSTLS,
		APOP: opts.APOP, NoUSER: opts.NoUSER, SASL: opts.SASL, AuthNeedsTLS: opts.AuthNeedsTLS,
		Lock: true, Users: users, NewMechanism: s.mechanism,
		UIDPrefix: "fake-", MaxLine: 64 << 10,
		Hooks: pop3server.Hooks{
			Received: s.received, Override: s.override, Retrieved: s.retrieved,
			Rewrite: s.rewrite, BehindSTLS: s.behindSTLS,
		},
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.srv.Serve(ln)
	}()
	t.Cleanup(func() {
		s.srv.Close()
		<-done
	})
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Deliver adds a message to user's maildrop and returns its unique id. LF
// line endings are turned into CRLF.
func (s *Server) Deliver(user string, msg []byte) string { return s.srv.Deliver(user, msg) }

// Messages returns a copy of user's maildrop as it is now.
func (s *Server) Messages(user string) []Message { return s.srv.Messages(user) }

// Commands returns every line received so far, in order.
func (s *Server) Commands() []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Command(nil), s.commands...)
}

// Reads returns every RETR and TOP answered so far, in order.
func (s *Server) Reads() []Read {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Read(nil), s.reads...)
}

// Lines returns the lines received so far, without their connection.
func (s *Server) Lines() []string {
	var out []string
	for _, c := range s.Commands() {
		out = append(out, c.Line)
	}
	return out
}

func (s *Server) received(c Command) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands = append(s.commands, c)
	if s.opts.Echo && !c.Response {
		s.echoCommand(c)
	}
}

func (s *Server) retrieved(r Read) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads = append(s.reads, r)
}

// override adds the fault switches that replace a reply.
func (s *Server) override(c Command) ([]string, bool) {
	verb, _, _ := strings.Cut(c.Line, " ")
	switch verb = strings.ToUpper(verb); {
	case s.opts.Override != nil:
		if reply, handled := s.opts.Override(c); handled {
			return reply, true
		}
	}
	switch {
	case verb == "CAPA" && s.opts.FailCapa:
		return []string{"-ERR unknown command"}, true
	case verb == "STLS" && s.opts.RefuseSTLS && !c.TLS && c.User == "":
		return []string{"-ERR [SYS/TEMP] TLS is not available now"}, true
	case verb == "STAT" && s.opts.FailStat && c.User != "":
		return []string{"-ERR [SYS/TEMP] maildrop is unavailable"}, true
	}
	return nil, false
}

// rewrite adds the fault switches that change a login's outcome, and Echo.
func (s *Server) rewrite(conn int, e pop3server.Event, reply string) string {
	const failed = "-ERR [AUTH] invalid credentials"
	if e == pop3server.LoginDone && s.opts.AuthCode != "" && strings.HasPrefix(reply, failed) {
		reply = "-ERR [" + s.opts.AuthCode + "]" + strings.TrimPrefix(reply, "-ERR [AUTH]")
	}
	if !s.opts.Echo {
		return reply
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.echoOf(conn).rewrite(e, reply)
}

func (s *Server) behindSTLS(_, n int) bool {
	if s.opts.DiscardAfterSTLS {
		return true
	}
	s.t.Errorf("fakepop3: the client sent %d bytes behind STLS (pipelined)", n)
	return false
}
