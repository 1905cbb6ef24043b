package fakeimap

import (
	"bytes"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
)

// Message is a message as the server holds it.
type Message struct {
	UID   uint32
	Flags []string // sorted
	Raw   []byte
}

// Append adds a message to a user's mailbox while the server runs, as a
// delivery does: sessions idling in that mailbox hear of it at once. (A
// session that entered IDLE a moment ago may not: go-imap's server starts
// listening for news just after it sent "+ idling", and news in between
// waits for the session's next command.)
func (s *Server) Append(user, mailbox string, raw []byte, flags ...string) error {
	u, ok := s.memUsers[user]
	if !ok {
		return fmt.Errorf("fakeimap: no user %q", user)
	}
	opts := &imap.AppendOptions{}
	for _, f := range flags {
		opts.Flags = append(opts.Flags, imap.Flag(f))
	}
	_, err := u.Append(canonical(mailbox), bytes.NewReader(raw), opts)
	return err
}

// Snapshot returns the messages of a user's mailbox (UID, flags and every
// byte), read through a side door: a read-only session on a server of its
// own over the same mailboxes, which ClientLines and Commands do not see.
func (s *Server) Snapshot(t testing.TB, user, mailbox string) []Message {
	t.Helper()
	u, ok := s.users[user]
	if !ok {
		t.Fatalf("fakeimap: no user %q", user)
	}
	side := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return s.mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		InsecureAuth: true,
		Logger:       s.log,
	})
	srvConn, cliConn := net.Pipe()
	ln := &oneConn{c: srvConn, closed: make(chan struct{})}
	served := make(chan struct{})
	go func() {
		defer close(served)
		side.Serve(ln)
	}()
	defer func() {
		side.Close()
		<-served
	}()
	c := imapclient.New(cliConn, nil)
	defer c.Close()
	if err := c.Login(u.Name, u.Password).Wait(); err != nil {
		t.Fatalf("fakeimap snapshot: login: %v", err)
	}
	sel, err := c.Select(canonical(mailbox), &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatalf("fakeimap snapshot: select %s: %v", mailbox, err)
	}
	var out []Message
	if sel.NumMessages > 0 {
		var all imap.SeqSet
		all.AddRange(1, 0) // 1:*
		body := &imap.FetchItemBodySection{Peek: true}
		msgs, err := c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true, BodySection: []*imap.FetchItemBodySection{body}}).Collect()
		if err != nil {
			t.Fatalf("fakeimap snapshot: fetch: %v", err)
		}
		for _, m := range msgs {
			msg := Message{UID: uint32(m.UID), Raw: m.FindBodySection(body)}
			for _, f := range m.Flags {
				msg.Flags = append(msg.Flags, string(f))
			}
			slices.Sort(msg.Flags)
			out = append(out, msg)
		}
	}
	c.Logout().Wait()
	return out
}

func canonical(mailbox string) string {
	if equalFold(mailbox, "INBOX") {
		return "INBOX"
	}
	return mailbox
}

func equalFold(a, b string) bool { return bytes.EqualFold([]byte(a), []byte(b)) }

// oneConn is a listener that hands out one connection, then waits to be
// closed.
type oneConn struct {
	mu     sync.Mutex
	c      net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *oneConn) Accept() (net.Conn, error) {
	l.mu.Lock()
	c := l.c
	l.c = nil
	l.mu.Unlock()
	if c != nil {
		return c, nil
	}
	<-l.closed
	return nil, net.ErrClosed
}

func (l *oneConn) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *oneConn) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "side-door" }

// List lists the mailboxes as the memory server does, plus the special-use
// attributes of Options.SpecialUse, which the memory server cannot set: for
// LIST (SPECIAL-USE), LIST ... RETURN (SPECIAL-USE), and in a plain LIST as
// RFC 6154 allows.
func (ss *session) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	special := ss.s.opts.SpecialUse
	if len(special) == 0 || ss.user == "" || len(patterns) == 0 || options.SelectSubscribed {
		return ss.Session.List(w, ref, patterns, options)
	}
	for _, name := range ss.s.boxes[ss.user] {
		match := false
		for _, p := range patterns {
			match = match || imapserver.MatchList(name, '/', ref, p)
		}
		attr, isSpecial := special[name]
		if !match || options.SelectSpecialUse && !isSpecial {
			continue
		}
		data := &imap.ListData{Mailbox: name, Delim: '/'}
		if isSpecial {
			data.Attrs = append(data.Attrs, attr)
		}
		if err := w.WriteList(data); err != nil {
			return err
		}
	}
	return nil
}

// Login remembers who logged in, for List. With Options.Echo a refusal
// repeats what the client sent: the user name and password, and its last
// line as the server read it.
func (ss *session) Login(user, password string) error {
	if err := ss.Session.Login(user, password); err != nil {
		if !ss.s.opts.Echo {
			return err
		}
		last := ""
		if lines := ss.s.rec.lines(); len(lines) > 0 {
			last = lines[len(lines)-1]
		}
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed,
			Text: printable("invalid credentials, you sent: " + user + " " + password + " | " + last)}
	}
	ss.user = user
	return nil
}

// printable makes s fit an IMAP response text: control characters become
// '.', so that an echoed SASL payload keeps its other bytes.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '.'
		}
		return r
	}, s)
}
