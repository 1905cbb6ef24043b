package pop3

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mailmon/mailmon/internal/wire"
)

func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{
		"+OK", "-ERR", "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>",
		"-ERR [SYS/TEMP] try later", "-ERR [AUTH] bad", "-ERR [", "-ERR []", "-ERR [a/b/c] x",
		"-ERR [IN-USE", "+ok", "+OKAY", "+ ", "+", "", "\x00", "\xff+OK", "+OK \xff\xfe\x00",
		"* OK IMAP", "220 ESMTP",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		st, err := ParseStatus(line)
		if err != nil {
			var pe *wire.ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseStatus(%q): error %T is not a protocol violation", line, err)
			}
			if !utf8.ValidString(err.Error()) || len(err.Error()) > 300 {
				t.Fatalf("error text unsafe or unbounded: %q", err.Error())
			}
			return
		}
		if s := st.String(); !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Fatalf("String() = %q: not sanitized", s)
		}
		if st.Code != "" && !strings.HasPrefix(strings.ToUpper(st.Text), "["+st.Code+"]") {
			t.Fatalf("code %q not at the start of %q", st.Code, st.Text)
		}
		var se *wire.ServerError
		var ae *wire.AuthError
		if !errors.As(st.Err(), &se) {
			t.Fatalf("Err() = %T", st.Err())
		}
		if e := st.AuthErr(); !errors.As(e, &se) && !errors.As(e, &ae) {
			t.Fatalf("AuthErr() = %T", e)
		}
		apopTimestamp(st.Text)
	})
}

// FuzzReadMultiline feeds the reader a response split at LF. It must never
// panic, never return more than the cap, and return content lines only when
// the terminator was seen.
func FuzzReadMultiline(f *testing.F) {
	f.Add("TOP\nUSER\nSASL PLAIN\n.\n", 10)
	f.Add("..\n..x\n.\n", 10)
	f.Add("a\nb\nc\nd\n.\n", 3)
	f.Add("no terminator\n", 5)
	f.Add(".\n", 0)
	f.Add(strings.Repeat("x\n", 50), 1000)
	f.Fuzz(func(t *testing.T, body string, max int) {
		if max < 0 || max > 10000 {
			return
		}
		in := lines(strings.Split(body, "\n"))
		total := len(in)
		got, err := ReadMultiline(&in, max)
		if err != nil {
			return
		}
		if len(got) > max {
			t.Fatalf("%d lines returned over the cap %d", len(got), max)
		}
		if consumed := total - len(in); consumed != len(got)+1 {
			t.Fatalf("consumed %d lines for %d content lines", consumed, len(got))
		}
	})
}
