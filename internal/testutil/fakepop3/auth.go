package fakepop3

import (
	"strings"

	"github.com/mailmon/mailmon/internal/mail/pop3server"
	"github.com/mailmon/mailmon/internal/testutil/saslsrv"
)

func (s *Server) accounts() saslsrv.Accounts {
	a := saslsrv.Accounts{Passwords: map[string]string{}, Tokens: map[string]string{}}
	for _, u := range s.opts.Users {
		if u.Password != "" {
			a.Passwords[u.Name] = u.Password
		}
		if u.Token != "" {
			a.Tokens[u.Name] = u.Token
		}
	}
	return a
}

// mechanism makes the SASL mechanisms of saslsrv, echoing with Options.Echo.
func (s *Server) mechanism(conn int, mech string, login func(string)) (pop3server.Mechanism, error) {
	m, err := saslsrv.New(mech, s.accounts(), login)
	if err != nil || !s.opts.Echo {
		return m, err
	}
	e := saslsrv.Echo(m, mech)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.echoOf(conn).pending, s.echoOf(conn).fromAuth = e.Said, true
	return e, nil
}

// echo is what one connection's logins repeat (Options.Echo).
type echo struct {
	pending  func() string // what the login in progress repeats
	fromAuth bool          // pending is an AUTH exchange's: it ends with it
	echoed   []string      // what the connection repeated so far
}

func (s *Server) echoOf(conn int) *echo {
	e := s.echo[conn]
	if e == nil {
		e = &echo{}
		s.echo[conn] = e
	}
	return e
}

// echoCommand notes the login line a reply will repeat.
func (s *Server) echoCommand(c Command) {
	e := s.echoOf(c.Conn)
	if e.fromAuth {
		e.pending, e.fromAuth = nil, false // the exchange is over
	}
	verb, args, _ := strings.Cut(c.Line, " ")
	switch verb = strings.ToUpper(verb); {
	case c.User == "" && (verb == "PASS" || verb == "APOP"):
		line := verb + " " + args
		e.pending = func() string { return line }
	}
}

// rewrite repeats the pending login line in the login's reply (", you
// sent: …"), and everything repeated so far in the reply to QUIT.
func (e *echo) rewrite(ev pop3server.Event, reply string) string {
	switch ev {
	case pop3server.LoginDone:
		if e.pending == nil {
			return reply
		}
		said := e.pending()
		e.pending, e.fromAuth = nil, false
		e.echoed = append(e.echoed, said)
		return reply + ", you sent: " + said
	case pop3server.Bye:
		if len(e.echoed) > 0 {
			return reply + ", you sent: " + strings.Join(e.echoed, " | ")
		}
	}
	return reply
}
