package imap

import (
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

type argKind int

const (
	argAtom argKind = iota
	argString
	argMailbox
)

// Arg is one argument of a command.
type Arg struct {
	s      string
	kind   argKind
	secret bool
}

// Atom is sent as it is: a keyword, a number, a sequence set, a flag list
// the caller built. It must not hold a line break.
func Atom(s string) Arg { return Arg{s: s, kind: argAtom} }

// String is an astring: sent quoted, or as a literal when it must be (8-bit
// text, a line break).
func String(s string) Arg { return Arg{s: s, kind: argString} }

// Secret is a String that the transcript shows as [redacted].
func Secret(s string) Arg { return Arg{s: s, kind: argString, secret: true} }

// Mailbox is a mailbox name: INBOX in any case is INBOX, other names are
// encoded in modified UTF-7 for IMAP4rev1 servers (RFC 3501 §5.1.3).
func Mailbox(name string) Arg { return Arg{s: name, kind: argMailbox} }

// errUnsendable: no IMAP string can carry a NUL byte (literal8 is for
// BINARY only), and an atom no line break. The value is not in the message:
// it may be a password.
var errUnsendable = errors.New("imap: a command argument holds a NUL byte or line break, which IMAP cannot send")

// quotable reports whether s can be sent as a quoted string: 7-bit text
// without CR, LF or NUL.
func quotable(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b == 0 || b == '\r' || b == '\n' || b >= 0x80 {
			return false
		}
	}
	return true
}

// quote makes s a quoted string, escaping quote and backslash.
func quote(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return `"` + s + `"`
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// mutf7 is base64 with "," for "/" and no padding (RFC 3501 §5.1.3),
// made on first use: a check that names no mailbox never needs it.
func mutf7() *base64.Encoding {
	mutf7Once.Do(func() {
		mutf7Enc = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").WithPadding(base64.NoPadding)
	})
	return mutf7Enc
}

var (
	mutf7Once sync.Once
	mutf7Enc  *base64.Encoding
)

// EncodeMailbox encodes a mailbox name in modified UTF-7: printable ASCII
// stands for itself ("&" is "&-"), any other run is "&" base64(UTF-16BE) "-".
func EncodeMailbox(name string) string {
	var b strings.Builder
	var run []uint16
	flush := func() {
		if len(run) == 0 {
			return
		}
		buf := make([]byte, 0, 2*len(run))
		for _, u := range run {
			buf = append(buf, byte(u>>8), byte(u))
		}
		b.WriteByte('&')
		b.WriteString(mutf7().EncodeToString(buf))
		b.WriteByte('-')
		run = run[:0]
	}
	for _, r := range name {
		if r >= 0x20 && r <= 0x7e {
			flush()
			if r == '&' {
				b.WriteString("&-")
			} else {
				b.WriteRune(r)
			}
			continue
		}
		run = utf16.AppendRune(run, r)
	}
	flush()
	return b.String()
}

// ErrBadMailboxName reports a mailbox name that is not valid modified UTF-7.
var ErrBadMailboxName = errors.New("imap: mailbox name is not valid modified UTF-7")

// DecodeMailbox decodes a modified UTF-7 mailbox name.
func DecodeMailbox(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return "", ErrBadMailboxName
		}
		if c != '&' {
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(s[i+1:], '-')
		if end < 0 {
			return "", ErrBadMailboxName
		}
		enc := s[i+1 : i+1+end]
		i += end + 1
		if enc == "" {
			b.WriteByte('&')
			continue
		}
		raw, err := mutf7().DecodeString(enc)
		if err != nil || len(raw)%2 != 0 {
			return "", ErrBadMailboxName
		}
		u := make([]uint16, len(raw)/2)
		for j := range u {
			u[j] = uint16(raw[2*j])<<8 | uint16(raw[2*j+1])
		}
		for j := 0; j < len(u); j++ {
			r := rune(u[j])
			if utf16.IsSurrogate(r) {
				if j+1 == len(u) {
					return "", ErrBadMailboxName
				}
				if r = utf16.DecodeRune(r, rune(u[j+1])); r == utf8.RuneError {
					return "", ErrBadMailboxName
				}
				j++
			}
			if r >= 0x20 && r <= 0x7e {
				return "", ErrBadMailboxName // printable ASCII must not be encoded
			}
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}
