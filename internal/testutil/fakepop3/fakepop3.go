// Package fakepop3 is an in-process POP3 server for tests (RFC 1939, 2449,
// 2595, 5034): STLS and implicit TLS, APOP, SASL PLAIN, LOGIN, CRAM-MD5,
// XOAUTH2 and OAUTHBEARER, a maildrop per user with UIDL, TOP and DELE, and
// fault switches. It records every command line it receives, secrets as
// received, so tests can check what the client really sent. Everything is
// closed and waited for at the test's cleanup.
package fakepop3

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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
type Command struct {
	Conn   int    // connection number, from 1
	TLS    bool   // the line came over TLS
	Line   string // as received, secrets included
	Secret bool   // the line carries a credential (PASS, APOP, an AUTH payload)
}

// Read is a RETR or TOP the server answered: which message was read, so
// tests can prove a client never read what it had no business reading.
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

// Server is a running fake.
type Server struct {
	Host   string
	Port   int
	CA     *certs.CA // the CA that signed the certificate, when the server made it
	CAFile string    // its PEM file

	t    testing.TB
	opts Options
	tls  *tls.Config
	ln   net.Listener
	ctx  context.Context
	wg   sync.WaitGroup

	mu       sync.Mutex
	conns    map[net.Conn]bool
	nconn    int
	commands []Command
	reads    []Read
	drops    map[string][]*Message // user → maildrop
	locked   map[string]bool
	nextUID  int
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
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		Host: host, Port: ln.Addr().(*net.TCPAddr).Port,
		t: t, opts: opts, ln: ln, ctx: ctx, tls: opts.TLS,
		conns: map[net.Conn]bool{}, drops: map[string][]*Message{}, locked: map[string]bool{},
	}
	if s.tls == nil && (opts.Implicit || opts.STLS) {
		s.CA = certs.NewCA(t)
		s.CAFile = s.CA.File(t)
		s.tls = certs.ServerConfig(s.CA.Issue(t, certs.Leaf{}))
	}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(func() {
		cancel()
		ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

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
	m := &Message{UID: fmt.Sprintf("fake-%06d", s.nextUID), Data: []byte(text)}
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

func (s *Server) recordRead(r Read) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads = append(s.reads, r)
}

// Lines returns the lines received so far, without their connection.
func (s *Server) Lines() []string {
	var out []string
	for _, c := range s.Commands() {
		out = append(out, c.Line)
	}
	return out
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.nconn++
		id := s.nconn
		s.conns[nc] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				nc.Close()
				s.mu.Lock()
				delete(s.conns, nc)
				s.mu.Unlock()
			}()
			ss := &session{srv: s, id: id, raw: nc}
			ss.run()
		}()
	}
}

func (s *Server) record(c Command) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands = append(s.commands, c)
}

func (s *Server) user(name string) (User, bool) {
	for _, u := range s.opts.Users {
		if u.Name == name {
			return u, true
		}
	}
	return User{}, false
}

func (s *Server) offers(mech string) bool {
	for _, m := range s.opts.SASL {
		if strings.EqualFold(m, mech) {
			return true
		}
	}
	return false
}

// lock takes user's maildrop for a session: its messages as they are now.
func (s *Server) lock(user string) ([]*Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locked[user] {
		return nil, false
	}
	s.locked[user] = true
	return append([]*Message(nil), s.drops[user]...), true
}

// unlock releases the maildrop, removing the messages in del.
func (s *Server) unlock(user string, del map[*Message]bool) {
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

// session is one connection.
type session struct {
	srv       *Server
	id        int
	raw       net.Conn
	conn      net.Conn
	r         *bufio.Reader
	tls       bool
	timestamp string

	user    string        // the USER given, before PASS
	authed  string        // the logged-in user
	echo    func() string // what the login in progress repeats (Options.Echo)
	echoed  []string      // what the session repeated so far
	drop    []*Message
	deleted map[*Message]bool
}

const maxLine = 64 << 10

func (ss *session) run() {
	s := ss.srv
	ss.conn = ss.raw
	if s.opts.Implicit {
		tc := tls.Server(ss.raw, s.tls)
		ss.raw.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			return // the client refused the certificate, or spoke no TLS
		}
		ss.raw.SetDeadline(time.Time{})
		ss.conn, ss.tls = tc, true
	}
	ss.r = bufio.NewReaderSize(ss.conn, maxLine)
	defer func() {
		if ss.authed != "" {
			s.unlock(ss.authed, nil) // no QUIT: nothing is removed (RFC 1939 §6)
		}
	}()
	greeting := "+OK fakepop3 ready"
	if s.opts.Echo {
		greeting += " and knows " + strings.Join(s.accounts().Secrets(), " ")
	}
	if s.opts.APOP {
		ss.timestamp = fmt.Sprintf("<%d.%d@fakepop3.test>", ss.id, time.Now().UnixNano())
		greeting += " " + ss.timestamp
	}
	if s.opts.Greeting != "" {
		greeting = s.opts.Greeting
	}
	if !ss.send(greeting) {
		return
	}
	for {
		line, ok := ss.read(false)
		if !ok {
			return
		}
		verb, args, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		if s.opts.Override != nil {
			if reply, handled := s.opts.Override(Command{Conn: ss.id, TLS: ss.tls, Line: line}); handled {
				if !ss.send(reply...) {
					return
				}
				continue
			}
		}
		if !ss.handle(verb, args) {
			return
		}
	}
}

// read reads one line from the client and records it.
func (ss *session) read(secret bool) (string, bool) {
	b, err := ss.r.ReadSlice('\n')
	if err != nil {
		return "", false
	}
	line := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if !secret {
		verb, _, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "PASS", "APOP":
			secret = true
		case "AUTH":
			secret = strings.Count(line, " ") >= 2
		}
	}
	ss.srv.record(Command{Conn: ss.id, TLS: ss.tls, Line: line, Secret: secret})
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
				return ss.send("-ERR [AUTH] Plaintext authentication disallowed on non-secure connections")
			}
			ss.user = args
			return ss.send("+OK")
		case "PASS":
			ss.echoLine("PASS " + args)
			if ss.user == "" {
				return ss.send("-ERR USER first")
			}
			u, ok := s.user(ss.user)
			ss.user = ""
			return ss.login(u.Name, ok && u.Password != "" && u.Password == args)
		case "APOP":
			return ss.apop(args)
		case "AUTH":
			return ss.auth(args)
		case "QUIT":
			ss.send(ss.bye())
			return false
		}
		return ss.send("-ERR unknown command or not logged in")
	}
	switch verb {
	case "CAPA":
		return ss.capa()
	case "STAT":
		if s.opts.FailStat {
			return ss.send("-ERR [SYS/TEMP] maildrop is unavailable")
		}
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
		s.recordRead(Read{Conn: ss.id, Verb: "RETR", UID: m.UID, Lines: -1})
		return ss.sendMessage(fmt.Sprintf("+OK %d octets", len(m.Data)), m.Data, -1)
	case "TOP":
		f := strings.Fields(args)
		if len(f) != 2 {
			return ss.send("-ERR usage: TOP msg n")
		}
		m := ss.msgArg(f[0])
		n, err := strconv.Atoi(f[1])
		if m == nil || err != nil || n < 0 {
			return ss.send("-ERR no such message")
		}
		s.recordRead(Read{Conn: ss.id, Verb: "TOP", UID: m.UID, Lines: n})
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
		s.unlock(ss.authed, ss.deleted)
		ss.authed = ""
		ss.send(ss.bye())
		return false
	}
	return ss.send("-ERR unknown command")
}

func (ss *session) capa() bool {
	s := ss.srv
	if s.opts.FailCapa {
		return ss.send("-ERR unknown command")
	}
	lines := []string{"+OK capability list follows", "TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"}
	if !s.opts.NoUSER {
		lines = append(lines, "USER")
	}
	if len(s.opts.SASL) > 0 {
		lines = append(lines, "SASL "+strings.Join(s.opts.SASL, " "))
	}
	if (s.opts.STLS || s.opts.RefuseSTLS) && !ss.tls && ss.authed == "" {
		lines = append(lines, "STLS")
	}
	lines = append(lines, "IMPLEMENTATION fakepop3", ".")
	return ss.send(lines...)
}

func (ss *session) stls() bool {
	s := ss.srv
	switch {
	case ss.tls:
		return ss.send("-ERR already in TLS")
	case s.opts.RefuseSTLS:
		return ss.send("-ERR [SYS/TEMP] TLS is not available now")
	case !s.opts.STLS:
		return ss.send("-ERR unknown command")
	}
	if n := ss.r.Buffered(); n > 0 && !s.opts.DiscardAfterSTLS {
		s.t.Errorf("fakepop3: the client sent %d bytes behind STLS (pipelined)", n)
		return false
	}
	if !ss.send("+OK begin TLS negotiation") {
		return false
	}
	tc := tls.Server(ss.raw, s.tls)
	ss.raw.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		return false
	}
	ss.raw.SetDeadline(time.Time{})
	ss.conn, ss.tls = tc, true
	ss.r = bufio.NewReaderSize(tc, maxLine)
	return true
}

// echoLine makes the login in progress repeat line (Options.Echo).
func (ss *session) echoLine(line string) {
	if ss.srv.opts.Echo {
		ss.echo = func() string { return line }
	}
}

// echoing is what the reply to a login repeats: ", you sent: …".
func (ss *session) echoing() string {
	if ss.echo == nil {
		return ""
	}
	said := ss.echo()
	ss.echo = nil
	ss.echoed = append(ss.echoed, said)
	return ", you sent: " + said
}

// bye is the reply to QUIT, repeating what the session echoed.
func (ss *session) bye() string {
	if len(ss.echoed) == 0 {
		return "+OK bye"
	}
	return "+OK bye, you sent: " + strings.Join(ss.echoed, " | ")
}

// login ends a login attempt of user: the maildrop is locked on success.
func (ss *session) login(user string, ok bool) bool {
	s := ss.srv
	echo := ss.echoing()
	if !ok {
		code := s.opts.AuthCode
		if code == "" {
			code = "AUTH"
		}
		return ss.send("-ERR [" + code + "] invalid credentials" + echo)
	}
	drop, locked := s.lock(user)
	if !locked {
		return ss.send("-ERR [IN-USE] maildrop is locked by another session" + echo)
	}
	ss.authed, ss.drop, ss.deleted = user, drop, map[*Message]bool{}
	return ss.send(fmt.Sprintf("+OK %s has %d messages%s", user, len(drop), echo))
}

func (ss *session) apop(args string) bool {
	s := ss.srv
	ss.echoLine("APOP " + args)
	if !s.opts.APOP {
		return ss.send("-ERR APOP is not supported")
	}
	if s.opts.AuthNeedsTLS && !ss.tls {
		return ss.send("-ERR [AUTH] Plaintext authentication disallowed on non-secure connections")
	}
	name, digest, _ := strings.Cut(args, " ")
	u, ok := s.user(name)
	return ss.login(name, ok && u.Password != "" && digest == apopDigest(ss.timestamp, u.Password))
}

// msg returns message n (from 1) of the session, nil if absent or deleted.
func (ss *session) msg(n int) *Message {
	if n < 1 || n > len(ss.drop) || ss.deleted[ss.drop[n-1]] {
		return nil
	}
	return ss.drop[n-1]
}

func (ss *session) msgArg(arg string) *Message {
	n, err := strconv.Atoi(strings.TrimSpace(arg))
	if err != nil {
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
	if strings.TrimSpace(args) != "" {
		m := ss.msgArg(args)
		if m == nil {
			return ss.send("-ERR no such message")
		}
		n, _ := strconv.Atoi(strings.TrimSpace(args))
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
