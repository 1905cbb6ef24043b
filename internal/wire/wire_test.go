package wire

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSanitize(t *testing.T) {
	tests := map[string]string{
		"plain text":              "plain text",
		"tab\tok":                 "tab\tok",
		"nul\x00gone":             "nulgone",
		"bell\x07":                "bell\uFFFD",
		"bad \xff\xfe utf8":       "bad \uFFFD utf8",
		"ünïcödé":                 "ünïcödé",
		"cr\rlf\n":                "cr\uFFFDlf\uFFFD",
		"del\x7f":                 "del\uFFFD",
		"\xc3\x28 half rune":      "\uFFFD( half rune",
		strings.Repeat("a", 3):    "aaa",
		"esc\x1b[2J":              "esc\uFFFD[2J",
		"c1 csi\u009b2J":          "c1 csi\uFFFD2J",
		"c1 nel\u0085":            "c1 nel\uFFFD",
		"txt\u202eexe.txt":        "txt\uFFFDexe.txt",
		"lre\u202a pdf\u202c":     "lre\uFFFD pdf\uFFFD",
		"iso\u2066late\u2069":     "iso\uFFFDlate\uFFFD",
		"rli\u2067 fsi\u2068":     "rli\uFFFD fsi\uFFFD",
		"marks\u200e\u200f\u061c": "marks\uFFFD\uFFFD\uFFFD",
		"line\u2028para\u2029":    "line\uFFFDpara\uFFFD",
		"עברית ok":                "עברית ok",
		"zwj 👩\u200d💻":            "zwj 👩\u200d💻",
	}
	for in, want := range tests {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTranscriptRedactsAndBounds(t *testing.T) {
	var tr Transcript
	tr.AddSecret("hunter22")
	tr.Client("PASS hunter22")
	tr.Server(strings.Repeat("x", 5000))
	for i := 0; i < maxTranscriptLines+10; i++ {
		tr.Note("n")
	}
	l := tr.Lines()
	if l[0] != "C: PASS [redacted]" {
		t.Errorf("secret not scrubbed: %q", l[0])
	}
	if len(l[1]) > maxTranscriptLine+10 {
		t.Errorf("line not truncated: %d bytes", len(l[1]))
	}
	if len(l) != maxTranscriptLines+1 || l[len(l)-1] != "-- transcript truncated" {
		t.Errorf("transcript not bounded: %d lines, last %q", len(l), l[len(l)-1])
	}
}

// pipeConn gives a Conn over one end of a loopback TCP pair.
func pipeConn(t *testing.T, ctx context.Context, lim Limits) (*Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	c := NewConn(ctx, client, lim, &Transcript{})
	t.Cleanup(func() { c.Close() })
	return c, server
}

func TestLineCap(t *testing.T) {
	c, srv := pipeConn(t, context.Background(), Limits{MaxLine: 64, MaxBytes: 1 << 20, MaxReplyLines: 10})
	go srv.Write([]byte(strings.Repeat("A", 1000) + "\r\n"))
	_, err := c.ReadLine()
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("want a protocol violation for a long line, got %v", err)
	}
}

func TestByteBudget(t *testing.T) {
	c, srv := pipeConn(t, context.Background(), Limits{MaxLine: 64, MaxBytes: 100, MaxReplyLines: 10})
	go srv.Write([]byte(strings.Repeat("line\r\n", 100)))
	var err error
	n := 0
	for ; err == nil && n < 100; n++ {
		_, err = c.ReadLine()
	}
	var pe *ProtocolError
	if !errors.As(err, &pe) || n > 20 {
		t.Fatalf("budget not enforced: %d lines read, err %v", n, err)
	}
}

func TestDeadlineFromContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	c, _ := pipeConn(t, ctx, DefaultLimits())
	start := time.Now()
	_, err := c.ReadLine()
	if el := time.Since(start); el > 400*time.Millisecond {
		t.Errorf("read outlived the context by %v", el-200*time.Millisecond)
	}
	if err == nil {
		t.Fatal("read from a silent server succeeded")
	}
}

func TestCancelClosesConn(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c, _ := pipeConn(t, ctx, DefaultLimits())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if _, err := c.ReadLine(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("want the connection closed on cancel, got %v", err)
	}
}

func TestStartTLSRefusesBufferedPlaintext(t *testing.T) {
	c, srv := pipeConn(t, context.Background(), DefaultLimits())
	go srv.Write([]byte("220 go ahead\r\n250 INJECTED\r\n"))
	if l, err := c.ReadLine(); err != nil || l != "220 go ahead" {
		t.Fatalf("ReadLine = %q, %v", l, err)
	}
	time.Sleep(20 * time.Millisecond)
	err := c.StartTLS(nil)
	var pe *ProtocolError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "injection") {
		t.Fatalf("want an injection violation, got %v", err)
	}
}

// TestHandshakeMeetsPlaintext: a handshake answered in plaintext (a
// plaintext server on a TLS port, a "454 TLS negotiation failed") says
// what the server sent, in the error and in the transcript.
func TestHandshakeMeetsPlaintext(t *testing.T) {
	c, srv := pipeConn(t, context.Background(), DefaultLimits())
	const said = "454 4.7.0 TLS negotiation failed\r\n"
	go func() {
		srv.Read(make([]byte, 1)) // the ClientHello began
		srv.Write([]byte(said))
		srv.Close()
	}()
	err := c.Handshake(&tls.Config{ServerName: "localhost"})
	var te *TLSError
	if !errors.As(err, &te) || string(te.Plaintext) != said {
		t.Fatalf("error %v, plaintext %q", err, te.Plaintext)
	}
	if got := c.Transcript().Lines(); len(got) != 1 || !strings.Contains(got[0], `the server sent "454 4.7.0 TLS negotiation failed\r\n"`) {
		t.Errorf("transcript %q", got)
	}
}

func TestWriteRefusesLineBreaks(t *testing.T) {
	c, _ := pipeConn(t, context.Background(), DefaultLimits())
	if err := c.WriteLine("USER a\r\nDELE 1"); err == nil {
		t.Fatal("a command with a line break was sent")
	}
}

func TestReadFullChecksBudgetFirst(t *testing.T) {
	c, _ := pipeConn(t, context.Background(), Limits{MaxLine: 64, MaxBytes: 1000, MaxReplyLines: 10})
	_, err := c.ReadFull(1 << 40)
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("want a violation before allocating 1 TiB, got %v", err)
	}
	var _ io.Reader
}

func TestQuiet(t *testing.T) {
	c, srv := pipeConn(t, context.Background(), DefaultLimits())
	go srv.Write([]byte("one\r\ntwo\r\nthree\r\nfour\r\n"))
	c.ReadLine()
	resume := c.Quiet() // the server's lines only: commands stay on record
	c.WriteLine("TOP 1 0")
	c.ReadLine()
	resume()
	resume = c.QuietAll()
	c.WriteLine("NOOP")
	c.ReadLine()
	resume()
	c.ReadLine()
	got := strings.Join(c.Transcript().Lines(), "|")
	want := "S: one|C: TOP 1 0|-- 1 lines not recorded (message headers, polling)|-- 2 lines not recorded (message headers, polling)|S: four"
	if got != want {
		t.Errorf("transcript\n%q, want\n%q", got, want)
	}
}

// TestQuietConcurrentReadWrite: IMAP IDLE reads on one goroutine while DONE
// is written on another, the transcript quiet: every line on either side is
// counted (run with -race).
func TestQuietConcurrentReadWrite(t *testing.T) {
	const n = 50
	c, srv := pipeConn(t, context.Background(), DefaultLimits())
	go srv.Write([]byte(strings.Repeat("* 1 FETCH (FLAGS ())\r\n", n)))
	go io.Copy(io.Discard, srv)
	resume := c.QuietAll()
	read := make(chan error, 1)
	go func() {
		for range n {
			if _, err := c.ReadLine(); err != nil {
				read <- err
				return
			}
		}
		read <- nil
	}()
	for range n {
		if err := c.WriteLine("DONE"); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	resume()
	want := []string{fmt.Sprintf("-- %d lines not recorded (message headers, polling)", 2*n)}
	if got := c.Transcript().Lines(); !slices.Equal(got, want) {
		t.Errorf("transcript %q, want %q", got, want)
	}
}

// TestReadLineOneAllocation: a line read costs one allocation, the string
// the transcript keeps, and what the transcript keeps is the line as it
// came (a secret in it still redacted).
func TestReadLineOneAllocation(t *testing.T) {
	c, srv := pipeConn(t, context.Background(), DefaultLimits())
	c.tr.AddSecret("hunter22")
	const runs = 100
	// One read first, AllocsPerRun's warm-up, its runs, then a secret.
	go srv.Write([]byte(strings.Repeat("250-mx.example says hi\r\n", runs+2) + "250 PASS hunter22\r\n"))
	if _, err := c.ReadLine(); err != nil { // the reader's buffer comes from its pool first
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(runs, func() {
		if l, err := c.ReadLine(); err != nil || l != "250-mx.example says hi" {
			t.Fatalf("ReadLine = %q, %v", l, err)
		}
	})
	if n > 1.2 {
		t.Errorf("%.2f allocations a line read, want 1", n)
	}
	if l, err := c.ReadLine(); err != nil || l != "250 PASS hunter22" {
		t.Fatalf("ReadLine = %q, %v: the caller must get what the server sent", l, err)
	}
	lines := c.tr.Lines()
	if len(lines) != runs+3 || lines[0] != "S: 250-mx.example says hi" || lines[len(lines)-1] != "S: 250 PASS "+Redacted {
		t.Errorf("transcript of %d lines, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
}

// discardConn takes every write and has nothing to read.
type discardConn struct{ net.Conn }

func (discardConn) Write(p []byte) (int, error)      { return len(p), nil }
func (discardConn) Close() error                     { return nil }
func (discardConn) SetDeadline(time.Time) error      { return nil }
func (discardConn) SetReadDeadline(time.Time) error  { return nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }

// TestFirstCommandNoAllocation: a connection's first command line (EHLO)
// is written from the connection's own buffer, not one allocated for it.
func TestFirstCommandNoAllocation(t *testing.T) {
	ctx := context.Background()
	var raw net.Conn = discardConn{}
	open := testing.AllocsPerRun(100, func() { NewConn(ctx, raw, DefaultLimits(), nil).Close() })
	ehlo := testing.AllocsPerRun(100, func() {
		c := NewConn(ctx, raw, DefaultLimits(), nil)
		if err := c.WriteLine("EHLO mailmon.example.org"); err != nil {
			t.Fatal(err)
		}
		c.Close()
	})
	if ehlo > open {
		t.Errorf("a connection and its first command: %v allocations, %v without the command", ehlo, open)
	}
}
