package fakeimap

import (
	"bytes"
	"net"
	"regexp"
	"strings"
	"sync"
)

// recorder is the imapserver's DebugWriter: it sees the plaintext of both
// directions (inside TLS too) in one stream, as the server reads and writes
// it. The server writes whole responses; a chunk that starts like a
// response ("* ", "+ ", "tag OK|NO|BAD") is the server's, anything else the
// client's. That holds for the line-at-a-time clients under test.
type recorder struct {
	mu        sync.Mutex
	client    []string
	partial   string
	pipelined bool
}

const maxRecorded = 10000

var serverStatus = regexp.MustCompile(`^[^ ]+ (?i:OK|NO|BAD)( |\r|$)`)

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := string(p)
	if r.partial == "" && (strings.HasPrefix(s, "* ") || strings.HasPrefix(s, "+ ") || strings.HasPrefix(s, "+\r") || serverStatus.MatchString(s)) {
		return len(p), nil
	}
	s = r.partial + s
	lines := strings.Split(s, "\n")
	r.partial = lines[len(lines)-1]
	for _, l := range lines[:len(lines)-1] {
		if len(r.client) < maxRecorded {
			r.client = append(r.client, strings.TrimSuffix(l, "\r"))
		}
	}
	return len(p), nil
}

func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.client...)
}

// listener wraps each connection to watch the raw bytes before TLS.
type listener struct {
	net.Listener
	s *Server
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &conn{Conn: c, s: l.s, plain: !l.s.opts.Implicit}, nil
}

// conn sees the raw bytes. Before TLS it checks that nothing but a TLS
// handshake follows a STARTTLS command, and hides capabilities if asked.
type conn struct {
	net.Conn
	s     *Server
	mu    sync.Mutex
	plain bool         // no TLS yet
	in    bytes.Buffer // client bytes while plain
}

var starttlsCmd = regexp.MustCompile(`(?i)^[^ \r\n]+ STARTTLS\r\n`)

func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.plain && n > 0 {
		c.in.Write(p[:n])
		c.scan()
	}
	return n, err
}

// scan looks at the complete client lines read so far; after a STARTTLS
// line, the next byte must open a TLS handshake record (0x16).
func (c *conn) scan() {
	for {
		b := c.in.Bytes()
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if c.in.Len() > 64<<10 {
				c.in.Reset()
			}
			return
		}
		line := b[:i+1]
		if starttlsCmd.Match(line) {
			rest := b[i+1:]
			c.plain = false
			if len(rest) > 0 && rest[0] != 0x16 {
				c.s.rec.mu.Lock()
				c.s.rec.pipelined = true
				c.s.rec.mu.Unlock()
			}
			c.in.Reset()
			return
		}
		c.in.Next(i + 1)
	}
}

func (c *conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	plain := c.plain
	c.mu.Unlock()
	hide := c.s.opts.HideCaps
	if !plain || len(hide) == 0 {
		return c.Conn.Write(p)
	}
	if _, err := c.Conn.Write(hideCaps(p, hide)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// hideCaps removes capability names from the complete CAPABILITY lines and
// codes in p.
func hideCaps(p []byte, hide []string) []byte {
	lines := strings.SplitAfter(string(p), "\n")
	for i, l := range lines {
		if !strings.HasSuffix(l, "\n") || !strings.Contains(strings.ToUpper(l), "CAPABILITY ") {
			continue
		}
		for _, h := range hide {
			l = regexp.MustCompile(`(?i) `+regexp.QuoteMeta(h)+`([ \]\r])`).ReplaceAllString(l, "$1")
		}
		lines[i] = l
	}
	return []byte(strings.Join(lines, ""))
}
