package smtp

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mailmon/mailmon/internal/wire"
)

// lines is a LineReader over a string, capped like wire.Conn.
type lines struct {
	br  *bufio.Reader
	max int
}

func newLines(s string, max int) *lines {
	return &lines{br: bufio.NewReaderSize(strings.NewReader(s), max), max: max}
}

func (l *lines) ReadLine() (string, error) {
	b, err := l.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return "", wire.Violation("line too long")
	}
	if err != nil {
		if err == io.EOF && len(b) > 0 {
			return "", io.ErrUnexpectedEOF
		}
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func TestReadReply(t *testing.T) {
	tests := []struct {
		in    string
		code  int
		lines []string
		err   string // "" ok, "violation", "eof"
	}{
		{in: "220 mail.example ESMTP\r\n", code: 220, lines: []string{"mail.example ESMTP"}},
		{in: "250\r\n", code: 250, lines: []string{""}},
		{in: "250-mail.example\r\n250-PIPELINING\r\n250 SIZE 10240000\r\n", code: 250, lines: []string{"mail.example", "PIPELINING", "SIZE 10240000"}},
		{in: "250-a\n250 b\n", code: 250, lines: []string{"a", "b"}},
		{in: "554 5.7.1 no\r\n", code: 554, lines: []string{"5.7.1 no"}},
		{in: "250-a\r\n251 b\r\n", err: "violation"},
		{in: "25\r\n", err: "violation"},
		{in: "abc hello\r\n", err: "violation"},
		{in: "250_x\r\n", err: "violation"},
		{in: "199 too low\r\n", err: "violation"},
		{in: "600 too high\r\n", err: "violation"},
		{in: "250-a\r\n250-b", err: "eof"},
		{in: "", err: "eof"},
		{in: strings.Repeat("250-x\r\n", 10) + "250 y\r\n", err: "violation"}, // over maxLines 5
	}
	for _, tc := range tests {
		r, err := ReadReply(newLines(tc.in, 512), 5)
		var pe *wire.ProtocolError
		switch tc.err {
		case "":
			if err != nil || r.Code != tc.code || strings.Join(r.Lines, "|") != strings.Join(tc.lines, "|") {
				t.Errorf("%q: got %+v, %v", tc.in, r, err)
			}
		case "violation":
			if !errors.As(err, &pe) {
				t.Errorf("%q: want a protocol violation, got %+v, %v", tc.in, r, err)
			}
		case "eof":
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%q: want EOF, got %+v, %v", tc.in, r, err)
			}
		}
	}
}

func TestReplyString(t *testing.T) {
	r := &Reply{Code: 550, Lines: []string{"5.1.1 no such user", "bad\x00 bytes \xff"}}
	if got := r.String(); got != "550 5.1.1 no such user / 550 bad bytes \uFFFD" {
		t.Errorf("String() = %q", got)
	}
	var se *wire.ServerError
	if err := r.Err(); !errors.As(err, &se) || se.Temporary {
		t.Errorf("5xx must be a permanent ServerError: %v", err)
	}
	if err := (&Reply{Code: 421}).Err(); !errors.As(err, &se) || !se.Temporary {
		t.Errorf("4xx must be temporary: %v", err)
	}
}

func TestDotStuff(t *testing.T) {
	got := string(dotStuff([]byte(".leading\r\nmiddle\r\n.\r\nend")))
	want := "..leading\r\nmiddle\r\n..\r\nend\r\n.\r\n"
	if got != want {
		t.Errorf("dotStuff = %q, want %q", got, want)
	}
}

// FuzzReadReply feeds arbitrary server output to the reply parser: it must
// never panic, never return more lines than allowed, and accept only
// replies with a valid code.
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{
		"220 mail.example ESMTP Postfix\r\n",
		"250-mail.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n",
		"421 4.3.2 Service shutting down\r\n",
		"334 VXNlcm5hbWU6\r\n",
		"250-a\r\n251 b\r\n",
		"\xff\xfe\x00\r\n",
		"250",
		"220-\r\n220-\r\n220\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ReadReply(newLines(in, 256), 16)
		if err != nil {
			return
		}
		if r.Code < 200 || r.Code > 599 {
			t.Fatalf("accepted code %d", r.Code)
		}
		if len(r.Lines) == 0 || len(r.Lines) > 16 {
			t.Fatalf("%d lines", len(r.Lines))
		}
		if s := r.String(); !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Fatalf("String() not clean: %q", s)
		}
	})
}
