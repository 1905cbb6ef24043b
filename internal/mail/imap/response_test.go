package imap

import (
	"bufio"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/wire"
)

// memReader is a LineReader over a string with wire.Conn's semantics: a
// line cap, and literals bounded by what is left.
type memReader struct {
	r       *bufio.Reader
	maxLine int
}

func newMemReader(s string, maxLine int) *memReader {
	return &memReader{r: bufio.NewReaderSize(strings.NewReader(s), maxLine), maxLine: maxLine}
}

func (m *memReader) ReadLine() (string, error) {
	b, err := m.r.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		return "", wire.Violation("line longer than %d bytes", m.maxLine)
	case err == io.EOF && len(b) > 0:
		return "", io.ErrUnexpectedEOF
	case err != nil:
		return "", err
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
}

func (m *memReader) ReadFull(n int64) ([]byte, error) {
	if n > 1<<20 {
		return nil, wire.Violation("literal over the test budget")
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(m.r, buf); err != nil {
		return nil, io.ErrUnexpectedEOF
	}
	return buf, nil
}

var testLimits = ResponseLimits{MaxLiteral: 1 << 10, MaxLiterals: 4}

func isViolation(err error) bool {
	var pe *wire.ProtocolError
	return errors.As(err, &pe)
}

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		tag      string
		lines    int
		literals []string
		respName string
	}{
		{"greeting", "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n", "*", 1, nil, "OK"},
		{"preauth", "* PREAUTH welcome back\r\n", "*", 1, nil, "PREAUTH"},
		{"bye", "* BYE too many connections\r\n", "*", 1, nil, "BYE"},
		{"tagged", "a1 OK done\r\n", "a1", 1, nil, "OK"},
		{"bare LF", "a1 NO nope\n", "a1", 1, nil, "NO"},
		{"continuation", "+ \r\n", "+", 1, nil, ""},
		{"bare continuation", "+\r\n", "+", 1, nil, ""},
		{"capability", "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n", "*", 1, nil, "CAPABILITY"},
		{"exists", "* 23 EXISTS\r\n", "*", 1, nil, "EXISTS"},
		{"literal", "* 1 FETCH (BODY[HEADER] {5}\r\nhello)\r\n", "*", 2, []string{"hello"}, "FETCH"},
		{"literal with CRLF inside", "* 1 FETCH (BODY[] {7}\r\na\r\nb\r\nc)\r\n", "*", 2, []string{"a\r\nb\r\nc"}, "FETCH"},
		{"two literals", "* LIST () {1}\r\n/ {5}\r\nINBOX\r\n", "*", 3, []string{"/", "INBOX"}, "LIST"},
		{"non-sync literal", "* STATUS {5+}\r\nINBOX (MESSAGES 1)\r\n", "*", 2, []string{"INBOX"}, "STATUS"},
		{"literal8", "* 1 FETCH (BINARY[] ~{2}\r\nhi)\r\n", "*", 2, []string{"hi"}, "FETCH"},
		{"empty literal", "* 1 FETCH (BODY[] {0}\r\n)\r\n", "*", 2, []string{""}, "FETCH"},
		{"status text ending in braces is text", "* OK see {5}\r\n", "*", 1, nil, "OK"},
		{"tagged text ending in braces is text", "a1 OK done {999999999999}\r\n", "a1", 1, nil, "OK"},
		{"braces without digits", "* SEARCH {x}\r\n", "*", 1, nil, "SEARCH"},
		{"continuation text ending in braces is text", "+ send {5}\r\nhello\r\n", "+", 1, nil, ""},
		{"continuation base64 ending in braces is text", "+ {5}\r\n", "+", 1, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ReadResponse(newMemReader(tt.in, 1024), testLimits)
			if err != nil {
				t.Fatalf("ReadResponse: %v", err)
			}
			if r.Tag != tt.tag || len(r.Lines) != tt.lines || len(r.Literals) != len(tt.literals) {
				t.Fatalf("got tag %q, %d lines, %d literals; want %q, %d, %d", r.Tag, len(r.Lines), len(r.Literals), tt.tag, tt.lines, len(tt.literals))
			}
			for i, l := range tt.literals {
				if string(r.Literals[i]) != l {
					t.Errorf("literal %d = %q, want %q", i, r.Literals[i], l)
				}
			}
			if got := r.Name(); got != tt.respName {
				t.Errorf("Name() = %q, want %q", got, tt.respName)
			}
		})
	}
}

func TestReadResponseErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		violation bool // else a disconnection
	}{
		{"empty line", "\r\n", true},
		{"star alone", "*\r\n", true},
		{"star space", "* \r\n", true},
		{"tag alone", "a1\r\n", true},
		{"bad tag", "a{1 OK x\r\n", true},
		{"plus in tag", "a+1 OK x\r\n", true},
		{"garbage", "\x00\xff\xfe garbage\r\n", true},
		{"literal over cap", "* 1 FETCH (BODY[] {1025}\r\n", true},
		{"huge literal", "* 1 FETCH (BODY[] {999999999999}\r\n", true},
		{"literal size overflow", "* 1 FETCH (BODY[] {99999999999999999999999999}\r\n", true},
		{"too many literals", "* X {1}\r\na{1}\r\nb{1}\r\nc{1}\r\nd{1}\r\ne\r\n", true},
		{"line over cap", "* OK " + strings.Repeat("x", 2000) + "\r\n", true},
		{"eof mid line", "* OK hel", false},
		{"eof in literal", "* 1 FETCH (BODY[] {10}\r\nabc", false},
		{"eof after literal", "* 1 FETCH (BODY[] {3}\r\nabc", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadResponse(newMemReader(tt.in, 1024), testLimits)
			if err == nil {
				t.Fatal("no error")
			}
			if got := isViolation(err); got != tt.violation {
				t.Fatalf("error %v: violation = %v, want %v", err, got, tt.violation)
			}
			if !tt.violation && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
				t.Fatalf("error %v is not an EOF", err)
			}
		})
	}
}

// A literal announced far over the cap is refused before anything near its
// size is allocated.
func TestHugeLiteralNotAllocated(t *testing.T) {
	in := "* 1 FETCH (BODY[] {999999999999}\r\n" + strings.Repeat("x", 100)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 100 {
		if _, err := ReadResponse(newMemReader(in, 1024), ResponseLimits{MaxLiteral: DefaultMaxLiteral, MaxLiterals: 1}); !isViolation(err) {
			t.Fatalf("err = %v, want a protocol violation", err)
		}
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 4<<20 {
		t.Fatalf("allocated %d bytes for 100 refused literals", d)
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		in                     string
		typ, code, arg, text   string
		temporary, wantErr, ok bool
	}{
		{in: "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] hi", typ: OK, code: "CAPABILITY", arg: "IMAP4rev1 LOGINDISABLED", text: "hi", ok: true},
		{in: "a1 OK [read-only] done", typ: OK, code: "READ-ONLY", text: "done", ok: true},
		{in: "a1 ok", typ: OK, ok: true},
		{in: "a2 NO [UNAVAILABLE] try later", typ: NO, code: "UNAVAILABLE", text: "try later", temporary: true, wantErr: true, ok: true},
		{in: "a2 NO [SERVERBUG] oops", typ: NO, code: "SERVERBUG", text: "oops", temporary: true, wantErr: true, ok: true},
		{in: "a2 NO [AUTHENTICATIONFAILED] bad", typ: NO, code: "AUTHENTICATIONFAILED", text: "bad", wantErr: true, ok: true},
		{in: "a3 BAD what?", typ: BAD, text: "what?", wantErr: true, ok: true},
		{in: "* BYE shutting down", typ: BYE, text: "shutting down", wantErr: true, ok: true},
		{in: "* PREAUTH [CAPABILITY IMAP4rev2] hello", typ: PREAUTH, code: "CAPABILITY", arg: "IMAP4rev2", text: "hello", ok: true},
		{in: "* OK [UIDVALIDITY 42] valid", typ: OK, code: "UIDVALIDITY", arg: "42", text: "valid", ok: true},
		{in: "a1 BYE no", ok: false},
		{in: "a1 PREAUTH no", ok: false},
		{in: "* OK [unterminated", ok: false},
		{in: "* OK [] empty", ok: false},
		{in: "* CAPABILITY IMAP4rev1", ok: false},
		{in: "+ go on", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ReadResponse(newMemReader(tt.in+"\r\n", 1024), testLimits)
			if err != nil {
				t.Fatal(err)
			}
			st, err := r.Status()
			if !tt.ok {
				if !isViolation(err) {
					t.Fatalf("Status() = %+v, %v; want a violation", st, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.Type != tt.typ || st.Code != tt.code || st.CodeArg != tt.arg || st.Text != tt.text {
				t.Fatalf("got %q %q %q %q", st.Type, st.Code, st.CodeArg, st.Text)
			}
			if st.Temporary() != tt.temporary {
				t.Errorf("Temporary() = %v", st.Temporary())
			}
			serr := st.Err()
			if (serr != nil) != tt.wantErr {
				t.Fatalf("Err() = %v", serr)
			}
			var se *wire.ServerError
			if serr != nil && (!errors.As(serr, &se) || se.Reply != tt.in || se.Temporary != tt.temporary) {
				t.Errorf("Err() = %#v", serr)
			}
		})
	}
}

func TestFields(t *testing.T) {
	tests := []struct {
		in   string
		want string // fields rendered by show
	}{
		{"* CAPABILITY IMAP4rev1 AUTH=PLAIN", "[CAPABILITY IMAP4rev1 AUTH=PLAIN]"},
		{"* 3 EXISTS", "[3 EXISTS]"},
		{`* STATUS "Sent Items" (MESSAGES 2 UIDNEXT 7 UNSEEN 0)`, `[STATUS "Sent Items" (MESSAGES 2 UIDNEXT 7 UNSEEN 0)]`},
		{`* LIST (\HasNoChildren \Junk) "/" Junk`, `[LIST (\HasNoChildren \Junk) "/" Junk]`},
		{`* LIST () NIL INBOX`, `[LIST () NIL INBOX]`},
		{`* LIST () "\\" "a \"q\""`, `[LIST () "\" "a "q""]`},
		{"* 1 FETCH (UID 5 BODY[HEADER.FIELDS (X-MAILMON DATE)] {4}\r\nab\r\n FLAGS (\\Seen))", "[1 FETCH (UID 5 BODY[HEADER.FIELDS (X-MAILMON DATE)] {\"ab\r\n\"} FLAGS (\\Seen))]"},
		{"* 1 FETCH (BODY[]<0> {2}\r\nhi)", `[1 FETCH (BODY[]<0> {"hi"})]`},
		{"* SEARCH 2 3 5", "[SEARCH 2 3 5]"},
		{"* SEARCH", "[SEARCH]"},
		{"* ((()))", "[((()))]"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ReadResponse(newMemReader(tt.in+"\r\n", 1024), testLimits)
			if err != nil {
				t.Fatal(err)
			}
			fs, err := r.Fields()
			if err != nil {
				t.Fatal(err)
			}
			if got := show(fs); got != tt.want {
				t.Errorf("fields %s\nwant   %s", got, tt.want)
			}
		})
	}
}

func show(fs []Field) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		switch {
		case f.Kind == ListField:
			parts[i] = "(" + strings.Trim(show(f.List), "[]") + ")"
		case f.Literal:
			parts[i] = "{" + `"` + f.Text + `"` + "}"
		case f.Kind == StringField:
			parts[i] = `"` + f.Text + `"`
		default:
			parts[i] = f.Text
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func TestFieldsErrors(t *testing.T) {
	for _, in := range []string{
		"* LIST (a",
		"* LIST a)",
		`* LIST "unterminated`,
		"* X " + strings.Repeat("(", 40) + strings.Repeat(")", 40),
		"* OK status has no fields",
		"a1 OK tagged neither",
	} {
		t.Run(in, func(t *testing.T) {
			r, err := ReadResponse(newMemReader(in+"\r\n", 1024), testLimits)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Fields(); !isViolation(err) {
				t.Fatalf("Fields() error = %v, want a violation", err)
			}
		})
	}
}

func TestFieldHelpers(t *testing.T) {
	r, err := ReadResponse(newMemReader("* X 42 NIL abc \"q\" 4294967296 ()\r\n", 1024), testLimits)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := r.Fields()
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := fs[1].Number(); !ok || n != 42 {
		t.Errorf("Number() = %d, %v", n, ok)
	}
	if !fs[2].IsNil() {
		t.Error("NIL is not nil")
	}
	if _, ok := fs[2].AString(); ok {
		t.Error("NIL is an astring")
	}
	if s, ok := fs[3].AString(); !ok || s != "abc" {
		t.Errorf("AString() = %q", s)
	}
	if s, ok := fs[4].AString(); !ok || s != "q" {
		t.Errorf("AString() = %q", s)
	}
	if _, ok := fs[5].Number(); ok {
		t.Error("2^32 is a 32-bit number")
	}
	if _, ok := fs[6].AString(); ok {
		t.Error("a list is an astring")
	}
	if n, ok := r.Number(); ok {
		t.Errorf("Number() of a response without one = %d", n)
	}
}

func TestMailboxEncoding(t *testing.T) {
	tests := []struct{ name, enc string }{
		{"INBOX", "INBOX"},
		{"Entwürfe", "Entw&APw-rfe"},
		{"A&B", "A&-B"},
		{"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
		{"Корзина", "&BBoEPgRABDcEOAQ9BDA-"},
		{"😀", "&2D3eAA-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EncodeMailbox(tt.name); got != tt.enc {
				t.Errorf("EncodeMailbox = %q, want %q", got, tt.enc)
			}
			if got, err := DecodeMailbox(tt.enc); err != nil || got != tt.name {
				t.Errorf("DecodeMailbox = %q, %v, want %q", got, err, tt.name)
			}
		})
	}
	for _, bad := range []string{"&", "&Jjo", "&AGE-", "&U,BTF-", "a\x01"} {
		if got, err := DecodeMailbox(bad); err == nil {
			t.Errorf("DecodeMailbox(%q) = %q, want an error", bad, got)
		}
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"user", `"user"`},
		{"", `""`},
		{`pa"ss`, `"pa\"ss"`},
		{`back\slash`, `"back\\slash"`},
	}
	for _, tt := range tests {
		if got := quote(tt.in); got != tt.want {
			t.Errorf("quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	for _, s := range []string{"ü", "a\rb", "a\nb", "a\x00b"} {
		if quotable(s) {
			t.Errorf("quotable(%q)", s)
		}
	}
}
