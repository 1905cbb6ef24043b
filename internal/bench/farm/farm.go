// Package farm is the benchmarks' target farm: minimal SMTP and IMAP
// responders and the project's POP3 server (mail/pop3server) on loopback
// (plain, STARTTLS or implicit TLS), as cheap as possible so that
// measurements are of the client. Each records how long
// every session took as the server saw it (accept to the last reply), and
// can be told to misbehave: answer nothing (a black hole) or flap.
package farm

import (
	"bufio"
	"crypto/tls"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailmon/mailmon/internal/mail/pop3server"
)

// Protocol is what a responder speaks.
type Protocol string

// Protocols.
const (
	SMTP Protocol = "smtp"
	POP3 Protocol = "pop3"
	IMAP Protocol = "imap"
)

// TLS is how a responder offers TLS.
type TLS string

// TLS modes.
const (
	NoTLS    TLS = "none"
	StartTLS TLS = "starttls"
	Implicit TLS = "implicit"
)

// Behaviour is how a responder treats a new connection.
type Behaviour int32

// Behaviours.
const (
	Answer    Behaviour = iota // the protocol, quickly
	BlackHole                  // accept and never say a word
)

// sessionTimeout is the longest a session may take.
const sessionTimeout = 30 * time.Second

// Server is a running responder.
type Server struct {
	Protocol Protocol
	TLSMode  TLS

	ln        net.Listener
	cfg       *tls.Config
	pop3      *pop3server.Server // the POP3 sessions
	behaviour atomic.Int32
	wg        sync.WaitGroup

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	sessions []time.Duration
	closed   bool
}

// Start listens on a free loopback port. cfg is required for StartTLS and
// Implicit.
func Start(p Protocol, mode TLS, cfg *tls.Config) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Protocol: p, TLSMode: mode, ln: ln, cfg: cfg, conns: map[net.Conn]struct{}{}}
	if mode == NoTLS {
		s.cfg = nil
	}
	if p == POP3 {
		s.pop3 = pop3server.New(pop3server.Options{Banner: "bench.example POP3 ready", TLS: s.cfg,
			STLS: mode == StartTLS, MaxLine: 1024, Timeout: sessionTimeout})
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Port is the listening port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Addr is "127.0.0.1:port".
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port()) }

// SetBehaviour changes how new connections are treated.
func (s *Server) SetBehaviour(b Behaviour) { s.behaviour.Store(int32(b)) }

// Sessions returns the durations of the sessions completed since the last
// call, as the server saw them, and forgets them.
func (s *Server) Sessions() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.sessions
	s.sessions = nil
	return out
}

// Close stops the server, drops its connections and waits for them.
func (s *Server) Close() {
	s.ln.Close()
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serve(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// session is one connection's conversation.
type session struct {
	s     *Server
	c     net.Conn
	br    *bufio.Reader
	tlsOn bool
}

func (s *Server) serve(c net.Conn) {
	defer func() { c.Close() }()
	start := time.Now()
	c.SetDeadline(start.Add(sessionTimeout))
	if Behaviour(s.behaviour.Load()) == BlackHole {
		// Hold the connection open, silent, until the client gives up.
		var b [64]byte
		for {
			if _, err := c.Read(b[:]); err != nil {
				return
			}
		}
	}
	ss := &session{s: s, c: c}
	if s.TLSMode == Implicit {
		tc := tls.Server(c, s.cfg)
		if tc.Handshake() != nil {
			return
		}
		ss.c, ss.tlsOn = tc, true
		c = tc
	}
	ss.br = bufio.NewReaderSize(ss.c, 1024)
	var ok bool
	switch s.Protocol {
	case SMTP:
		ok = ss.smtp()
	case POP3:
		ok = s.pop3.ServeConn(ss.c) == nil
	case IMAP:
		ok = ss.imap()
	}
	if ok {
		d := time.Since(start)
		s.mu.Lock()
		s.sessions = append(s.sessions, d)
		s.mu.Unlock()
	}
}

func (ss *session) write(s string) bool {
	_, err := ss.c.Write([]byte(s))
	return err == nil
}

// line reads one command line, upper-cased and trimmed.
func (ss *session) line() (string, bool) {
	l, err := ss.br.ReadString('\n')
	if err != nil || len(l) > 1024 {
		return "", false
	}
	return strings.TrimSpace(l), true
}

// startTLS turns the connection into TLS after the go-ahead was sent.
func (ss *session) startTLS() bool {
	tc := tls.Server(ss.c, ss.s.cfg)
	if tc.Handshake() != nil {
		return false
	}
	ss.c, ss.br, ss.tlsOn = tc, bufio.NewReaderSize(tc, 1024), true
	return true
}

func (ss *session) offersSTARTTLS() bool { return ss.s.TLSMode == StartTLS && !ss.tlsOn }

// smtp serves greeting, EHLO/HELO, STARTTLS, NOOP, RSET and QUIT; it
// reports whether the client said QUIT.
func (ss *session) smtp() bool {
	if !ss.write("220 bench.example ESMTP\r\n") {
		return false
	}
	for {
		l, ok := ss.line()
		if !ok {
			return false
		}
		cmd := strings.ToUpper(l)
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			if ss.offersSTARTTLS() {
				ss.write("250-bench.example\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 SIZE 10240000\r\n")
			} else {
				ss.write("250-bench.example\r\n250-PIPELINING\r\n250 SIZE 10240000\r\n")
			}
		case strings.HasPrefix(cmd, "HELO"):
			ss.write("250 bench.example\r\n")
		case cmd == "STARTTLS" && ss.offersSTARTTLS():
			if !ss.write("220 go ahead\r\n") || !ss.startTLS() {
				return false
			}
		case cmd == "NOOP" || cmd == "RSET":
			ss.write("250 ok\r\n")
		case cmd == "QUIT":
			return ss.write("221 bye\r\n")
		default:
			ss.write("502 no\r\n")
		}
	}
}

// imap serves greeting, CAPABILITY, STARTTLS, NOOP and LOGOUT.
func (ss *session) imap() bool {
	caps := func() string {
		if ss.offersSTARTTLS() {
			return "IMAP4rev1 STARTTLS LOGINDISABLED"
		}
		return "IMAP4rev1 AUTH=PLAIN"
	}
	if !ss.write("* OK [CAPABILITY " + caps() + "] bench.example IMAP ready\r\n") {
		return false
	}
	for {
		l, ok := ss.line()
		if !ok {
			return false
		}
		tag, rest, _ := strings.Cut(l, " ")
		switch cmd := strings.ToUpper(rest); {
		case cmd == "CAPABILITY":
			ss.write("* CAPABILITY " + caps() + "\r\n" + tag + " OK done\r\n")
		case cmd == "STARTTLS" && ss.offersSTARTTLS():
			if !ss.write(tag+" OK begin TLS\r\n") || !ss.startTLS() {
				return false
			}
		case cmd == "NOOP":
			ss.write(tag + " OK done\r\n")
		case cmd == "LOGOUT":
			return ss.write("* BYE bench.example\r\n" + tag + " OK bye\r\n")
		default:
			ss.write(tag + " BAD no\r\n")
		}
	}
}

// Percentile returns the p-th percentile (0–100) of ds, sorting it.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds)-1) * p / 100)
	return ds[i]
}
