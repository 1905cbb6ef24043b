// Package wire is the line-oriented transport under mailmon's SMTP, POP3 and
// IMAP clients. It enforces the robustness rules of a probe: one absolute
// deadline taken from the context before the first read, a cap on the length
// of a line and on the bytes read over the whole connection, plaintext
// injected after STARTTLS treated as an attack, and a transcript of the
// conversation with credentials redacted.
package wire

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
)

// Limits bound what one server can make a test read.
type Limits struct {
	MaxLine       int   // longest line accepted, CRLF included
	MaxBytes      int64 // bytes read over the whole connection
	MaxReplyLines int   // lines of one multi-line reply
}

// DefaultLimits suit every check of a single service: no greeting,
// capability list or status reply comes near them.
func DefaultLimits() Limits {
	return Limits{MaxLine: 4 << 10, MaxBytes: 1 << 20, MaxReplyLines: 1000}
}

// Conn is one connection to a mail server.
type Conn struct {
	ctx       context.Context
	raw       net.Conn // the TCP connection
	conn      net.Conn // raw, or TLS over raw
	br        *bufio.Reader
	lim       Limits
	read      int64
	tr        *Transcript
	tls       *tls.ConnectionState
	stopClose func() bool
	wbuf      []byte       // reused for each command line
	wfirst    [80]byte     // wbuf's first array: most commands fit (EHLO, STARTTLS, QUIT)
	rs        atomic.Int32 // br's state: idle, a read under way, back in the pool (bufpool.go)

	// While quiet, lines are counted instead of recorded. IMAP IDLE reads
	// on a goroutine of its own while DONE is written: both sides count.
	qmu         sync.Mutex
	quiet       int  // 1 + lines left out of the transcript while quiet
	quietClient bool // the client's lines are left out too
}

// NewConn takes over raw. The connection's deadline is set once, to the
// context's deadline, and the connection is closed when the context ends, so
// no read or write can outlive the test.
func NewConn(ctx context.Context, raw net.Conn, lim Limits, tr *Transcript) *Conn {
	raw = withQuickAck(raw)
	c := &Conn{ctx: ctx, raw: raw, conn: raw, lim: lim, tr: tr}
	c.wbuf = c.wfirst[:0]
	if dl, ok := ctx.Deadline(); ok {
		raw.SetDeadline(dl)
	}
	c.stopClose = context.AfterFunc(ctx, func() { raw.Close() })
	c.br = newReader(meter{c}, lim.MaxLine)
	return c
}

// meter counts every byte read from the server against the budget.
type meter struct{ c *Conn }

func (m meter) Read(p []byte) (int, error) {
	left := m.c.lim.MaxBytes - m.c.read
	if left <= 0 {
		return 0, Violation("server sent more than %d bytes", m.c.lim.MaxBytes)
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := m.c.conn.Read(p)
	m.c.read += int64(n)
	return n, err
}

// Limits returns the limits the connection enforces.
func (c *Conn) Limits() Limits { return c.lim }

// Transcript returns the transcript the connection records to.
func (c *Conn) Transcript() *Transcript { return c.tr }

// ReadLine reads one line and returns it without its line ending. A line
// longer than the limit is a protocol violation, reported as soon as the
// limit is reached rather than after the whole line arrived.
func (c *Conn) ReadLine() (string, error) {
	if !c.reading() {
		return "", errReaderGone
	}
	defer c.doneReading()
	b, err := c.br.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		c.tr.Server(string(b[:min(len(b), 80)]) + "…")
		return "", Violation("line longer than %d bytes", c.lim.MaxLine)
	case err == io.EOF && len(b) > 0:
		c.tr.Server(string(b))
		return "", io.ErrUnexpectedEOF
	case err != nil:
		return "", err
	}
	b = bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
	if c.leftOut(false) {
		return string(b), nil
	}
	return c.tr.serverLine(b), nil
}

// Quiet stops recording the server's lines in the transcript (message
// headers fetched by a round trip would drown the conversation), while the
// client's commands stay on record; the returned function resumes recording
// and notes how many lines were left out. Errors are still recorded.
func (c *Conn) Quiet() (resume func()) { return c.quieten(false) }

// QuietAll is Quiet for both directions (a round trip's rapid polling).
func (c *Conn) QuietAll() (resume func()) { return c.quieten(true) }

func (c *Conn) quieten(both bool) func() {
	c.qmu.Lock()
	c.quiet, c.quietClient = 1, both
	c.qmu.Unlock()
	return func() {
		c.qmu.Lock()
		n := c.quiet - 1
		c.quiet, c.quietClient = 0, false
		c.qmu.Unlock()
		if n > 0 {
			c.tr.Note(fmt.Sprintf("%d lines not recorded (message headers, polling)", n))
		}
	}
}

// leftOut counts a line (of the client's, or the server's) that the
// transcript leaves out while quiet, and reports whether it does.
func (c *Conn) leftOut(client bool) bool {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.quiet == 0 || client && !c.quietClient {
		return false
	}
	c.quiet++
	return true
}

func (c *Conn) recordClient(line string) {
	if !c.leftOut(true) {
		c.tr.Client(line)
	}
}

// ReadFull reads exactly n bytes (an IMAP literal, a message body). The caller
// checks n against its own cap before calling; the connection budget still
// applies.
func (c *Conn) ReadFull(n int64) ([]byte, error) {
	if !c.reading() {
		return nil, errReaderGone
	}
	defer c.doneReading()
	if n > c.lim.MaxBytes-c.read+int64(c.br.Buffered()) {
		return nil, Violation("server announced %d bytes, more than the %d left in the budget", n, c.lim.MaxBytes-c.read)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(c.br, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// WriteLine sends one command line, CRLF-terminated, in one write: commands
// are never pipelined behind STARTTLS.
func (c *Conn) WriteLine(line string) error {
	c.recordClient(line)
	return c.write(line)
}

// WriteRedacted sends line but records shown in the transcript. Every line
// that carries a credential goes through here.
func (c *Conn) WriteRedacted(line, shown string) error {
	c.recordClient(shown)
	return c.write(line)
}

func (c *Conn) write(line string) error {
	if strings.ContainsAny(line, "\r\n") {
		return fmt.Errorf("wire: refusing to send a command with a line break")
	}
	c.wbuf = append(append(c.wbuf[:0], line...), '\r', '\n')
	_, err := c.conn.Write(c.wbuf)
	return err
}

// Write sends raw bytes (a message body); nothing is recorded.
func (c *Conn) Write(p []byte) (int, error) { return c.conn.Write(p) }

// Handshake starts TLS on a connection that speaks TLS from the first byte.
func (c *Conn) Handshake(cfg *tls.Config) error {
	if !c.reading() {
		return errReaderGone
	}
	defer c.doneReading()
	return c.handshake(cfg)
}

// StartTLS upgrades the connection after the server agreed to STARTTLS.
// Bytes the server sent after its agreement and before the handshake were
// sent in the clear and could be injected by anyone on the path: they are
// never read as protocol and their presence is a protocol violation.
func (c *Conn) StartTLS(cfg *tls.Config) error {
	if !c.reading() {
		return errReaderGone
	}
	defer c.doneReading()
	if n := c.br.Buffered(); n > 0 {
		peek, _ := c.br.Peek(min(n, 60))
		c.tr.Note(fmt.Sprintf("%d bytes of plaintext after the STARTTLS reply: %q", n, peek))
		return Violation("%d bytes of plaintext followed the STARTTLS reply (command injection)", n)
	}
	return c.handshake(cfg)
}

func (c *Conn) handshake(cfg *tls.Config) error {
	quickAckFromNow(c.raw)
	head := &headConn{Conn: c.raw}
	tc := tls.Client(head, cfg)
	err := tc.Handshake()
	head.done = true
	if err != nil {
		te := &TLSError{Err: err}
		var rh tls.RecordHeaderError
		if errors.As(err, &rh) {
			te.Plaintext = head.head
			c.tr.Note(fmt.Sprintf("TLS handshake failed: %v; the server sent %q", err, Truncate(string(head.head), 80)))
		} else {
			c.tr.Note("TLS handshake failed: " + err.Error())
		}
		return te
	}
	head.head = nil
	st := tc.ConnectionState()
	c.tls = &st
	c.conn = tc
	putReader(c.br) // empty: StartTLS checked, and Handshake comes first
	c.br = newReader(meter{c}, c.lim.MaxLine)
	c.tr.Note("TLS handshake done: " + VersionName(st.Version) + " " + CipherSuiteName(st.CipherSuite))
	return nil
}

// headConn keeps the first bytes read during a handshake: when they were
// not TLS, they say why (tls.RecordHeaderError keeps only five of them).
type headConn struct {
	net.Conn
	head []byte
	done bool // the handshake is over: nothing more is kept
}

// maxHead bounds what headConn keeps.
const maxHead = 512

func (h *headConn) Read(p []byte) (int, error) {
	n, err := h.Conn.Read(p)
	if !h.done && len(h.head) < maxHead {
		h.head = append(h.head, p[:min(n, maxHead-len(h.head))]...)
	}
	return n, err
}

// TLS returns the TLS state, or nil before TLS.
func (c *Conn) TLS() *tls.ConnectionState { return c.tls }

// Encrypted reports whether the connection is protected by TLS.
func (c *Conn) Encrypted() bool { return c.tls != nil }

// Close closes the connection at once.
func (c *Conn) Close() error {
	c.stopClose()
	err := c.raw.Close()
	c.releaseReader()
	return err
}

// VersionName names a TLS version compactly, e.g. "TLS1.3".
func VersionName(v uint16) string {
	switch v { // the common ones without a string built per test
	case tls.VersionTLS13:
		return "TLS1.3"
	case tls.VersionTLS12:
		return "TLS1.2"
	}
	return strings.ReplaceAll(tls.VersionName(v), " ", "")
}

// CipherSuiteName is tls.CipherSuiteName, which builds the list of every
// suite on each call (two allocations per handshake for a name).
func CipherSuiteName(id uint16) string {
	if n, ok := suites.names()[id]; ok {
		return n
	}
	return tls.CipherSuiteName(id)
}

// suites maps every cipher suite crypto/tls knows to its name; static,
// built on first use, read only.
var suites suiteNames

type suiteNames struct {
	once sync.Once
	m    map[uint16]string
}

func (s *suiteNames) names() map[uint16]string {
	s.once.Do(func() {
		s.m = map[uint16]string{}
		for _, c := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
			s.m[c.ID] = c.Name
		}
	})
	return s.m
}
