// Package pop3server is a small POP3 server (RFC 1939, 2449, 2595, 5034):
// STLS and implicit TLS, USER/PASS, APOP, SASL through mechanisms the
// caller supplies, a maildrop per user with UIDL, TOP and DELE. It is the
// one POP3 server of the project: serve --demo runs it, the tests' fake
// (testutil/fakepop3) adds its fault switches and recording through Hooks,
// and the benchmarks' farm its measuring through ServeConn.
//
// Every session has one deadline (Options.Timeout) and a bound on its line
// length (Options.MaxLine); Close ends every session and waits for them.
package pop3server

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultMaxLine = 4 << 10
	DefaultTimeout = 2 * time.Minute
)

// Options configure a server. The zero value is a plaintext server that
// offers USER and knows nobody.
type Options struct {
	Banner         string      // the greeting after "+OK "; "": "POP3 ready"
	Implementation string      // the CAPA IMPLEMENTATION line; "": none
	TLS            *tls.Config // the certificate of STLS and implicit TLS
	Implicit       bool        // Serve: TLS from the first byte
	STLS           bool        // offer STLS
	APOP           bool        // a timestamp in the greeting, and APOP accepted
	NoUSER         bool        // neither advertise nor accept USER/PASS
	SASL           []string    // mechanisms offered (made by NewMechanism)
	AuthNeedsTLS   bool        // refuse USER, APOP and AUTH before TLS with -ERR [AUTH] (Dovecot's disable_plaintext_auth)
	Lock           bool        // one session per maildrop, as RFC 1939 says; another login gets -ERR [IN-USE]

	// Users maps a user name to its password (USER/PASS and APOP). An empty
	// password never matches.
	Users map[string]string
	// NewMechanism makes the server side of an AUTH exchange for mech (upper
	// case, one of SASL); the mechanism calls login with the user it
	// authenticated.
	NewMechanism func(conn int, mech string, login func(user string)) (Mechanism, error)

	UIDPrefix string        // of the unique ids Deliver gives; "": "msg-"
	MaxLine   int           // longest line read, CRLF included; 0: DefaultMaxLine
	Timeout   time.Duration // the deadline of a session from its start; 0: DefaultTimeout

	// Greeting, if set, is sent instead of the whole greeting line.
	Greeting string

	Hooks
}

// Mechanism is the server side of a SASL mechanism; go-sasl's sasl.Server
// is one.
type Mechanism interface {
	Next(response []byte) (challenge []byte, done bool, err error)
}

// Hooks let a caller watch a server and bend its answers: the tests' fake
// records and adds faults through them. Each may be nil; they are called
// from the sessions' goroutines, at once for several sessions.
type Hooks struct {
	// Received sees every line read, before it is answered.
	Received func(Command)
	// Override sees every command (not the responses of an AUTH exchange)
	// first; when it returns true, its reply (lines without CRLF) is sent
	// instead of the server's own.
	Override func(Command) (reply []string, handled bool)
	// Retrieved sees every RETR and TOP answered with a message.
	Retrieved func(Read)
	// Rewrite may change a reply of one of the kinds of Event before it is
	// sent.
	Rewrite func(conn int, e Event, reply string) string
	// BehindSTLS is told of bytes a client sent behind STLS before the TLS
	// handshake (a pipelined command, or an injection). They are dropped;
	// false ends the session instead of starting TLS.
	BehindSTLS func(conn, n int) (goOn bool)
}

// Event is a reply a Rewrite hook may change.
type Event int

// Events.
const (
	LoginDone Event = iota // the reply that ends a login attempt, either way
	Bye                    // the reply to QUIT
)

// Command is one line the server read.
type Command struct {
	Conn     int    // connection number, from 1
	TLS      bool   // the line came over TLS
	User     string // the user logged in on the connection; "" before login
	Line     string // as received, secrets included
	Secret   bool   // the line carries a credential (PASS, APOP, an AUTH payload)
	Response bool   // the line is a client response of an AUTH exchange
}

// Read is a RETR or TOP answered with a message.
type Read struct {
	Conn  int
	Verb  string // "RETR" or "TOP"
	UID   string
	Lines int // body lines asked for by TOP; -1 for RETR
}

// Message is a message of a maildrop.
type Message struct {
	UID  string
	Data []byte // CRLF line endings
}

// Server serves POP3 sessions over its maildrops.
type Server struct {
	opts Options

	mu      sync.Mutex
	lns     map[net.Listener]bool
	conns   map[net.Conn]bool
	closed  bool
	wg      sync.WaitGroup
	nconn   int
	drops   map[string][]*Message // user → maildrop
	locked  map[string]bool
	nextUID int
}

// New makes a server; Serve or ServeConn puts it to work.
func New(opts Options) *Server {
	if opts.Banner == "" {
		opts.Banner = "POP3 ready"
	}
	if opts.UIDPrefix == "" {
		opts.UIDPrefix = "msg-"
	}
	if opts.MaxLine <= 0 {
		opts.MaxLine = DefaultMaxLine
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	return &Server{opts: opts, lns: map[net.Listener]bool{}, conns: map[net.Conn]bool{},
		drops: map[string][]*Message{}, locked: map[string]bool{}}
}

// ErrClosed is what Serve returns once the server is closed.
var ErrClosed = errors.New("pop3server: closed")

// Serve accepts connections on ln until Close, each served on its own
// goroutine (with the TLS handshake first if Options.Implicit) and closed
// at its end.
func (s *Server) Serve(ln net.Listener) error {
	if !s.track(ln, nil) {
		ln.Close()
		return ErrClosed
	}
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrClosed
			}
			return err
		}
		if !s.track(nil, c) {
			c.Close()
			return ErrClosed
		}
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			defer c.Close()
			if s.opts.Implicit {
				tc := tls.Server(c, s.opts.TLS)
				c.SetDeadline(time.Now().Add(s.opts.Timeout))
				if tc.Handshake() != nil {
					return // the client refused the certificate, or spoke no TLS
				}
				s.ServeConn(tc)
				return
			}
			s.ServeConn(c)
		}()
	}
}

// ErrNoQuit is a session that ended without QUIT: the connection failed,
// timed out, or the server closed it.
var ErrNoQuit = errors.New("pop3server: session ended without QUIT")

// ServeConn serves one session on c, a *tls.Conn counting as TLS from the
// start, and returns nil when the client ended it with QUIT. The caller
// closes c.
func (s *Server) ServeConn(c net.Conn) error {
	s.mu.Lock()
	s.nconn++
	id := s.nconn
	s.mu.Unlock()
	_, isTLS := c.(*tls.Conn)
	ss := &session{srv: s, id: id, raw: c, conn: c, tls: isTLS}
	c.SetDeadline(time.Now().Add(s.opts.Timeout))
	return ss.run()
}

// Close stops every Serve, closes the connections they serve and waits for
// them. The caller of ServeConn closes its own.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *Server) track(ln net.Listener, c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if ln != nil {
		s.lns[ln] = true
	}
	if c != nil {
		s.conns[c] = true
	}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Deliver adds a message to user's maildrop and returns its unique id. LF
// line endings are turned into CRLF.
func (s *Server) Deliver(user string, msg []byte) string {
	text := strings.ReplaceAll(strings.ReplaceAll(string(msg), "\r\n", "\n"), "\n", "\r\n")
	if !strings.HasSuffix(text, "\r\n") {
		text += "\r\n"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextUID++
	m := &Message{UID: fmt.Sprintf("%s%06d", s.opts.UIDPrefix, s.nextUID), Data: []byte(text)}
	s.drops[user] = append(s.drops[user], m)
	return m.UID
}

// Messages returns a copy of user's maildrop as it is now.
func (s *Server) Messages(user string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.drops[user]))
	for i, m := range s.drops[user] {
		out[i] = Message{UID: m.UID, Data: append([]byte(nil), m.Data...)}
	}
	return out
}

// open takes user's maildrop for a session: its messages as they are now.
func (s *Server) open(user string) ([]*Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.Lock && s.locked[user] {
		return nil, false
	}
	s.locked[user] = true
	return append([]*Message(nil), s.drops[user]...), true
}

// release gives the maildrop back, removing the messages in del.
func (s *Server) release(user string, del map[*Message]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.locked, user)
	if len(del) == 0 {
		return
	}
	var keep []*Message
	for _, m := range s.drops[user] {
		if !del[m] {
			keep = append(keep, m)
		}
	}
	s.drops[user] = keep
}

func (s *Server) offers(mech string) bool {
	for _, m := range s.opts.SASL {
		if strings.EqualFold(m, mech) {
			return true
		}
	}
	return false
}

func (s *Server) password(user string) (string, bool) {
	pw, ok := s.opts.Users[user]
	return pw, ok && pw != ""
}

func (s *Server) rewrite(conn int, e Event, reply string) string {
	if s.opts.Rewrite == nil {
		return reply
	}
	return s.opts.Rewrite(conn, e, reply)
}

// session is one connection.
type session struct {
	srv       *Server
	id        int
	raw       net.Conn // before STLS
	conn      net.Conn
	r         *bufio.Reader
	tls       bool
	timestamp string

	user    string // the USER given, before PASS
	authed  string // the logged-in user
	drop    []*Message
	deleted map[*Message]bool
	quit    bool
}

func (ss *session) run() error {
	s := ss.srv
	ss.r = bufio.NewReaderSize(ss.conn, s.opts.MaxLine)
	defer func() {
		if ss.authed != "" {
			s.release(ss.authed, nil) // no QUIT: nothing is removed (RFC 1939 §6)
		}
	}()
	greeting := "+OK " + s.opts.Banner
	if s.opts.APOP {
		ss.timestamp = fmt.Sprintf("<%d.%d@pop3server.invalid>", ss.id, time.Now().UnixNano())
		greeting += " " + ss.timestamp
	}
	if s.opts.Greeting != "" {
		greeting = s.opts.Greeting
	}
	if !ss.send(greeting) {
		return ErrNoQuit
	}
	for {
		line, ok := ss.read(false)
		if !ok {
			return ErrNoQuit
		}
		verb, args, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		if s.opts.Override != nil {
			if reply, handled := s.opts.Override(ss.command(line, false, false)); handled {
				if !ss.send(reply...) {
					return ErrNoQuit
				}
				continue
			}
		}
		if !ss.handle(verb, args) {
			if ss.quit {
				return nil
			}
			return ErrNoQuit
		}
	}
}

func (ss *session) command(line string, secret, response bool) Command {
	return Command{Conn: ss.id, TLS: ss.tls, User: ss.authed, Line: line, Secret: secret, Response: response}
}

// read reads one line from the client and shows it to the Received hook;
// response is a line of an AUTH exchange.
func (ss *session) read(response bool) (string, bool) {
	b, err := ss.r.ReadSlice('\n')
	if err != nil {
		return "", false // includes a line longer than MaxLine
	}
	line := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	secret := response
	if !secret {
		verb, _, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "PASS", "APOP":
			secret = true
		case "AUTH":
			secret = strings.Count(line, " ") >= 2
		}
	}
	if h := ss.srv.opts.Received; h != nil {
		h(ss.command(line, secret, response))
	}
	return line, true
}

// send writes lines, CRLF-terminated, in one write.
func (ss *session) send(lines ...string) bool {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	_, err := ss.conn.Write([]byte(b.String()))
	return err == nil
}

const authNeedsTLS = "-ERR [AUTH] Plaintext authentication disallowed on non-secure connections"

// handle answers one command; false ends the session.
func (ss *session) handle(verb, args string) bool {
	s := ss.srv
	if ss.authed == "" {
		switch verb {
		case "CAPA":
			return ss.capa()
		case "STLS":
			return ss.stls()
		case "USER":
			if s.opts.NoUSER {
				return ss.send("-ERR USER is not supported")
			}
			if s.opts.AuthNeedsTLS && !ss.tls {
				return ss.send(authNeedsTLS)
			}
			ss.user = args
			return ss.send("+OK")
		case "PASS":
			if ss.user == "" {
				return ss.send("-ERR USER first")
			}
			name := ss.user
			ss.user = ""
			pw, ok := s.password(name)
			return ss.login(name, ok && pw == args)
		case "APOP":
			return ss.apop(args)
		case "AUTH":
			return ss.auth(args)
		case "QUIT":
			ss.quit = true
			ss.send(s.rewrite(ss.id, Bye, "+OK bye"))
			return false
		}
		return ss.send("-ERR unknown command or not logged in")
	}
	switch verb {
	case "CAPA":
		return ss.capa()
	case "STAT":
		n, size := 0, 0
		for i := range ss.drop {
			if m := ss.msg(i + 1); m != nil {
				n++
				size += len(m.Data)
			}
		}
		return ss.send(fmt.Sprintf("+OK %d %d", n, size))
	case "LIST", "UIDL":
		return ss.listing(verb, args)
	case "RETR":
		m := ss.msgArg(args)
		if m == nil {
			return ss.send("-ERR no such message")
		}
		ss.retrieved(Read{Conn: ss.id, Verb: "RETR", UID: m.UID, Lines: -1})
		return ss.sendMessage(fmt.Sprintf("+OK %d octets", len(m.Data)), m.Data, -1)
	case "TOP":
		f := strings.Fields(args)
		if len(f) != 2 {
			return ss.send("-ERR usage: TOP msg n")
		}
		m := ss.msgArg(f[0])
		n, ok := atoi(f[1])
		if m == nil || !ok {
			return ss.send("-ERR no such message")
		}
		ss.retrieved(Read{Conn: ss.id, Verb: "TOP", UID: m.UID, Lines: n})
		return ss.sendMessage("+OK top of message follows", m.Data, n)
	case "DELE":
		m := ss.msgArg(args)
		if m == nil {
			return ss.send("-ERR no such message")
		}
		ss.deleted[m] = true
		return ss.send("+OK message deleted")
	case "RSET":
		ss.deleted = map[*Message]bool{}
		return ss.send("+OK")
	case "NOOP":
		return ss.send("+OK")
	case "QUIT":
		s.release(ss.authed, ss.deleted)
		ss.authed = ""
		ss.quit = true
		ss.send(s.rewrite(ss.id, Bye, "+OK bye"))
		return false
	}
	return ss.send("-ERR unknown command")
}

func (ss *session) retrieved(r Read) {
	if h := ss.srv.opts.Retrieved; h != nil {
		h(r)
	}
}

func (ss *session) capa() bool {
	s := ss.srv
	lines := []string{"+OK capability list follows", "TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"}
	if !s.opts.NoUSER {
		lines = append(lines, "USER")
	}
	if len(s.opts.SASL) > 0 {
		lines = append(lines, "SASL "+strings.Join(s.opts.SASL, " "))
	}
	if s.opts.STLS && !ss.tls && ss.authed == "" {
		lines = append(lines, "STLS")
	}
	if s.opts.Implementation != "" {
		lines = append(lines, "IMPLEMENTATION "+s.opts.Implementation)
	}
	return ss.send(append(lines, ".")...)
}

func (ss *session) stls() bool {
	s := ss.srv
	switch {
	case ss.tls:
		return ss.send("-ERR already in TLS")
	case !s.opts.STLS:
		return ss.send("-ERR unknown command")
	case s.opts.TLS == nil:
		return ss.send("-ERR [SYS/TEMP] TLS is not available now")
	}
	if n := ss.r.Buffered(); n > 0 && s.opts.BehindSTLS != nil && !s.opts.BehindSTLS(ss.id, n) {
		return false
	}
	if !ss.send("+OK begin TLS negotiation") {
		return false
	}
	// The handshake reads from the connection itself: whatever was
	// buffered behind STLS is dropped with the old reader.
	tc := tls.Server(ss.raw, s.opts.TLS)
	if err := tc.Handshake(); err != nil {
		return false
	}
	ss.conn, ss.tls = tc, true
	ss.r = bufio.NewReaderSize(tc, s.opts.MaxLine)
	return true
}

// login ends a login attempt of user: the maildrop is opened on success.
func (ss *session) login(user string, ok bool) bool {
	s := ss.srv
	if !ok {
		return ss.send(s.rewrite(ss.id, LoginDone, "-ERR [AUTH] invalid credentials"))
	}
	drop, opened := s.open(user)
	if !opened {
		return ss.send(s.rewrite(ss.id, LoginDone, "-ERR [IN-USE] maildrop is locked by another session"))
	}
	ss.authed, ss.drop, ss.deleted = user, drop, map[*Message]bool{}
	return ss.send(s.rewrite(ss.id, LoginDone, fmt.Sprintf("+OK %s has %d messages", user, len(drop))))
}

// msg returns message n (from 1) of the session, nil if absent or deleted.
func (ss *session) msg(n int) *Message {
	if n < 1 || n > len(ss.drop) || ss.deleted[ss.drop[n-1]] {
		return nil
	}
	return ss.drop[n-1]
}

func (ss *session) msgArg(arg string) *Message {
	n, ok := atoi(strings.TrimSpace(arg))
	if !ok {
		return nil
	}
	return ss.msg(n)
}

func (ss *session) listing(verb, args string) bool {
	item := func(i int, m *Message) string {
		if verb == "LIST" {
			return fmt.Sprintf("%d %d", i, len(m.Data))
		}
		return fmt.Sprintf("%d %s", i, m.UID)
	}
	if arg := strings.TrimSpace(args); arg != "" {
		m := ss.msgArg(arg)
		if m == nil {
			return ss.send("-ERR no such message")
		}
		n, _ := atoi(arg)
		return ss.send("+OK " + item(n, m))
	}
	lines := []string{"+OK listing follows"}
	for i := range ss.drop {
		if m := ss.msg(i + 1); m != nil {
			lines = append(lines, item(i+1, m))
		}
	}
	return ss.send(append(lines, ".")...)
}

// sendMessage sends a message dot-stuffed; body < 0 sends it whole, else
// the header and that many body lines.
func (ss *session) sendMessage(status string, data []byte, body int) bool {
	lines := []string{status}
	inBody := false
	n := 0
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\r\n"), "\r\n") {
		if inBody && body >= 0 {
			if n >= body {
				break
			}
			n++
		}
		if l == "" {
			inBody = true
		}
		if strings.HasPrefix(l, ".") {
			l = "." + l
		}
		lines = append(lines, l)
	}
	return ss.send(append(lines, ".")...)
}
