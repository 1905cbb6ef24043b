// Package fakeimap runs a real IMAP server for tests: go-imap v2's
// imapserver over an imapmemserver backend, on a free loopback port, with
// STARTTLS or implicit TLS, users with mailboxes and messages, SASL
// mechanisms the library lacks (XOAUTH2, OAUTHBEARER, CRAM-MD5), a PREAUTH
// or BYE greeting, and a record of what clients sent.
package fakeimap

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// User is an account on the server.
type User struct {
	Name     string
	Password string
	Token    string              // OAuth bearer token accepted by XOAUTH2 and OAUTHBEARER
	Mail     map[string][]string // mailbox name → raw messages; INBOX always exists
}

// Options describe the server.
type Options struct {
	Users        []User
	TLSConfig    *tls.Config // offered with STARTTLS, or used from the first byte with Implicit
	Implicit     bool
	InsecureAuth bool     // allow login without TLS
	IPv6         bool     // listen on [::1] instead of 127.0.0.1
	Mechanisms   []string // AUTH= mechanisms; default PLAIN; also XOAUTH2, OAUTHBEARER, CRAM-MD5
	Rev2         bool     // advertise IMAP4rev2 besides IMAP4rev1
	PreAuth      string   // greet with PREAUTH, logged in as this user
	Bye          string   // greet with "* BYE <Bye>" and close
	// HideCaps removes capabilities (e.g. SASL-IR) from what the server
	// says before TLS; it does not reach inside TLS.
	HideCaps []string
	// Caps are capabilities to advertise besides the defaults, for
	// commands the server handles whether advertised or not (UIDPLUS,
	// LIST-EXTENDED, ...).
	Caps []imap.Cap
	// Echo repeats credentials as a careless server does: every user's
	// password and token in the greeting's capabilities (as mechanisms
	// AUTH=X-ECHO-…); a refused LOGIN's user, password and command line; and
	// what a client sends in AUTHENTICATE, decoded and as sent, in the
	// challenges that follow and in the refusal (saslsrv.Echo).
	Echo bool
	// SpecialUse gives mailboxes a special-use attribute (RFC 6154), e.g.
	// "Spam" → imap.MailboxAttrJunk; the server then advertises SPECIAL-USE.
	SpecialUse map[string]imap.MailboxAttr
	// SearchDelay makes every SEARCH answer this late: a slow server, for
	// timing that must fall within a search.
	SearchDelay time.Duration
	// IdleNews starts each IDLE with news that is no delivery (a FLAGS
	// response, as when another client defines a keyword).
	IdleNews bool
}

// Server is a running fake.
type Server struct {
	Host string
	Port int

	opts  Options
	mem   *imapmemserver.Server
	srv   *imapserver.Server
	users map[string]User
	done  chan struct{}

	memUsers map[string]*imapmemserver.User
	boxes    map[string][]string // user → mailbox names, sorted
	rec      *recorder
	log      *logger
}

// Start runs a server on a free loopback port until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Implicit && opts.TLSConfig == nil {
		t.Fatal("fakeimap: Implicit needs a TLSConfig")
	}
	host := "127.0.0.1"
	if opts.IPv6 {
		host = "::1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{
		Host: host, Port: ln.Addr().(*net.TCPAddr).Port,
		opts: opts, mem: imapmemserver.New(), users: map[string]User{},
		memUsers: map[string]*imapmemserver.User{}, boxes: map[string][]string{},
		done: make(chan struct{}), rec: &recorder{}, log: &logger{},
	}
	for _, u := range opts.Users {
		if err := s.addUser(u); err != nil {
			ln.Close()
			t.Fatal(err)
		}
	}
	caps := imap.CapSet{imap.CapIMAP4rev1: {}}
	if opts.Rev2 {
		caps[imap.CapIMAP4rev2] = struct{}{}
	}
	for _, c := range opts.Caps {
		caps[c] = struct{}{}
	}
	if len(opts.SpecialUse) > 0 {
		caps[imap.CapSpecialUse] = struct{}{}
	}

	var starttls *tls.Config
	if !opts.Implicit {
		starttls = opts.TLSConfig
	}
	s.srv = imapserver.New(&imapserver.Options{
		NewSession:   s.newSession,
		Caps:         caps,
		Logger:       s.log,
		TLSConfig:    starttls,
		InsecureAuth: opts.InsecureAuth,
		DebugWriter:  s.rec,
	})
	var l net.Listener = &listener{Listener: ln, s: s}
	if opts.Implicit {
		l = tls.NewListener(l, opts.TLSConfig)
	}
	go func() {
		defer close(s.done)
		s.srv.Serve(l)
	}()
	t.Cleanup(func() {
		s.srv.Close()
		<-s.done
	})
	return s
}

func (s *Server) addUser(u User) error {
	mu := imapmemserver.NewUser(u.Name, u.Password)
	if err := mu.Create("INBOX", nil); err != nil {
		return err
	}
	boxes := []string{"INBOX"}
	for name, msgs := range u.Mail {
		if !strings.EqualFold(name, "INBOX") {
			if err := mu.Create(name, nil); err != nil {
				return err
			}
			boxes = append(boxes, name)
		} else {
			name = "INBOX"
		}
		for _, m := range msgs {
			if _, err := mu.Append(name, bytes.NewReader([]byte(m)), &imap.AppendOptions{}); err != nil {
				return fmt.Errorf("fakeimap: append to %s: %w", name, err)
			}
		}
	}
	s.mem.AddUser(mu)
	s.users[u.Name] = u
	s.memUsers[u.Name] = mu
	slices.Sort(boxes)
	s.boxes[u.Name] = boxes
	return nil
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// ClientLines returns every line clients sent, in order, inside TLS too
// (credentials included: this is a test server).
func (s *Server) ClientLines() []string { return s.rec.lines() }

// Commands returns the command names clients sent (LOGIN, STARTTLS, ...),
// upper case, in order; continuation lines are left out.
func (s *Server) Commands() []string {
	var out []string
	for _, l := range s.ClientLines() {
		f := strings.Fields(l)
		if len(f) < 2 || !strings.HasPrefix(f[0], "a") {
			continue
		}
		if _, err := strconv.Atoi(f[0][1:]); err != nil {
			continue
		}
		name := strings.ToUpper(f[1])
		if name == "UID" && len(f) > 2 {
			name += " " + strings.ToUpper(f[2])
		}
		out = append(out, name)
	}
	return out
}

// PlaintextAfterSTARTTLS reports whether a client sent anything but a TLS
// handshake right after its STARTTLS command (pipelining into TLS).
func (s *Server) PlaintextAfterSTARTTLS() bool {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	return s.rec.pipelined
}

// Log returns what the server logged (errors handling connections).
func (s *Server) Log() string {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return s.log.b.String()
}

func (s *Server) newSession(c *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
	if s.opts.Bye != "" {
		return nil, nil, &imap.Error{Type: imap.StatusResponseTypeBye, Text: s.opts.Bye}
	}
	sess := &session{Session: s.mem.NewSession(), s: s}
	if s.opts.PreAuth != "" {
		u := s.users[s.opts.PreAuth]
		if err := sess.Login(u.Name, u.Password); err != nil {
			return nil, nil, err
		}
		return sess, &imapserver.GreetingData{PreAuth: true}, nil
	}
	return sess, nil, nil
}

// logger keeps the server's log; tests may read it, and nothing is logged
// through testing.T, which must not be used after a test ends.
type logger struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logger) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 64<<10 {
		fmt.Fprintf(&l.b, format+"\n", args...)
	}
}
