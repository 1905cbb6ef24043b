package pop3

import (
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mailmon/mailmon/internal/wire"
)

func TestParseStatus(t *testing.T) {
	tests := []struct {
		line     string
		ok       bool
		code     string
		text     string
		str      string
		violates bool
	}{
		{line: "+OK", ok: true, str: "+OK"},
		{line: "+OK ", ok: true, str: "+OK"},
		{line: "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>", ok: true, text: "POP3 server ready <1896.697170952@dbc.mtview.ca.us>"},
		{line: "+ok lower case", ok: true, text: "lower case", str: "+OK lower case"},
		{line: "-ERR", str: "-ERR"},
		{line: "-ERR no such message", text: "no such message"},
		{line: "-ERR [AUTH] bad password", code: "AUTH", text: "[AUTH] bad password"},
		{line: "-ERR [SYS/TEMP] try later", code: "SYS/TEMP", text: "[SYS/TEMP] try later"},
		{line: "-ERR [in-use] locked", code: "IN-USE", text: "[in-use] locked"},
		{line: "-ERR [] empty code", text: "[] empty code"},
		{line: "-ERR [SYS/] bad code", text: "[SYS/] bad code"},
		{line: "-ERR [unterminated", text: "[unterminated"},
		{line: "-ERR [A B] space", text: "[A B] space"},
		{line: "+OK [UTF8] ok too", ok: true, code: "UTF8", text: "[UTF8] ok too"},
		{line: "", violates: true},
		{line: "+", violates: true},
		{line: "+ challenge", violates: true},
		{line: "OK", violates: true},
		{line: "+OKAY", violates: true},
		{line: "-ERRor", violates: true},
		{line: "220 smtp.example.com ESMTP", violates: true},
		{line: "* OK IMAP4rev1", violates: true},
		{line: "\xff\xfe+OK", violates: true},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			st, err := ParseStatus(tt.line)
			if tt.violates {
				var pe *wire.ProtocolError
				if !errors.As(err, &pe) {
					t.Fatalf("ParseStatus(%q) = %+v, %v; want a protocol violation", tt.line, st, err)
				}
				if !utf8.ValidString(err.Error()) {
					t.Errorf("error text is not valid UTF-8: %q", err.Error())
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseStatus(%q): %v", tt.line, err)
			}
			if st.OK != tt.ok || st.Code != tt.code || st.Text != tt.text {
				t.Errorf("ParseStatus(%q) = %+v; want ok=%v code=%q text=%q", tt.line, st, tt.ok, tt.code, tt.text)
			}
			want := tt.str
			if want == "" {
				want = tt.line
			}
			if st.String() != want {
				t.Errorf("String() = %q, want %q", st.String(), want)
			}
		})
	}
}

func TestStatusErrors(t *testing.T) {
	tests := []struct {
		line      string
		auth      bool // AuthErr is an *wire.AuthError
		temporary bool
	}{
		{line: "-ERR invalid password", auth: true},
		{line: "-ERR [AUTH] invalid password", auth: true},
		{line: "-ERR [SYS/TEMP] try later", temporary: true},
		{line: "-ERR [SYS/PERM] broken"},
		{line: "-ERR [IN-USE] maildrop locked", temporary: true},
		{line: "-ERR [LOGIN-DELAY] too soon", temporary: true},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			st, err := ParseStatus(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			var se *wire.ServerError
			if !errors.As(st.Err(), &se) || se.Reply != tt.line || se.Temporary != tt.temporary {
				t.Errorf("Err() = %#v; want ServerError{Reply: %q, Temporary: %v}", st.Err(), tt.line, tt.temporary)
			}
			var ae *wire.AuthError
			if got := errors.As(st.AuthErr(), &ae); got != tt.auth {
				t.Errorf("AuthErr() = %#v; AuthError %v, want %v", st.AuthErr(), got, tt.auth)
			}
			if tt.auth && ae.Reply != tt.line {
				t.Errorf("AuthError.Reply = %q, want %q", ae.Reply, tt.line)
			}
		})
	}
}

func TestStatusStringSanitized(t *testing.T) {
	st, err := ParseStatus("-ERR bad\x00\xffbytes")
	if err != nil {
		t.Fatal(err)
	}
	s := st.String()
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		t.Errorf("String() = %q: not sanitized", s)
	}
}

// lines is a LineReader over fixed lines; io.EOF after the last.
type lines []string

func (l *lines) ReadLine() (string, error) {
	if len(*l) == 0 {
		return "", io.EOF
	}
	s := (*l)[0]
	*l = (*l)[1:]
	return s, nil
}

func TestReadMultiline(t *testing.T) {
	tests := []struct {
		name  string
		in    []string
		max   int
		want  []string
		left  int // lines not consumed
		proto bool
		eof   bool
	}{
		{name: "empty", in: []string{"."}, max: 10, want: nil},
		{name: "lines", in: []string{"TOP", "USER", "SASL PLAIN", "."}, max: 10, want: []string{"TOP", "USER", "SASL PLAIN"}},
		{name: "dot-stuffed", in: []string{"..", "..hidden", ".x", "", "."}, max: 10, want: []string{".", ".hidden", "x", ""}},
		{name: "stops at the terminator", in: []string{"a", ".", "+OK next"}, max: 10, want: []string{"a"}, left: 1},
		{name: "exactly max", in: []string{"1", "2", "3", "."}, max: 3, want: []string{"1", "2", "3"}},
		{name: "over max", in: []string{"1", "2", "3", "4", "."}, max: 3, proto: true},
		{name: "no terminator", in: []string{"1", "2"}, max: 10, eof: true},
		{name: "terminator with space is a line", in: []string{". ", "."}, max: 10, want: []string{" "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := lines(tt.in)
			got, err := ReadMultiline(&r, tt.max)
			switch {
			case tt.proto:
				var pe *wire.ProtocolError
				if !errors.As(err, &pe) {
					t.Fatalf("err = %v, want a protocol violation", err)
				}
				return
			case tt.eof:
				if !errors.Is(err, io.EOF) {
					t.Fatalf("err = %v, want EOF", err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if len(r) != tt.left {
				t.Errorf("%d lines left unread, want %d", len(r), tt.left)
			}
		})
	}
}

func TestAPOPTimestamp(t *testing.T) {
	tests := []struct{ text, want string }{
		{"POP3 server ready <1896.697170952@dbc.mtview.ca.us>", "<1896.697170952@dbc.mtview.ca.us>"},
		{"<a@b> Dovecot ready.", "<a@b>"},
		{"Dovecot ready.", ""},
		{"ready <no-at-sign>", ""},
		{"ready <@host>", ""},
		{"ready <user@>", ""},
		{"ready <a b@c>", ""},
		{"ready <unterminated@x", ""},
		{"ready <<x@y>", ""},
		{"ready <x@y\xff>", ""},
	}
	for _, tt := range tests {
		if got := apopTimestamp(tt.text); got != tt.want {
			t.Errorf("apopTimestamp(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestAPOPDigest(t *testing.T) {
	// The example of RFC 1939 §7.
	got := APOPDigest("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf")
	if want := "c4c9334bac560ecc979e58001b3e22fb"; got != want {
		t.Errorf("APOPDigest = %s, want %s", got, want)
	}
}
