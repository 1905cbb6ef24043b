// Package imap is the IMAP client of mailmon's probes (RFC 3501 IMAP4rev1,
// RFC 9051 IMAP4rev2, RFC 2595 STARTTLS, RFC 4959 SASL-IR), written on
// package wire so that every read has the test's deadline and a size cap,
// every literal is checked against a cap before anything is allocated, and
// every line is in the transcript with credentials redacted.
//
// It speaks what a monitor needs: greeting, CAPABILITY, STARTTLS, LOGIN,
// AUTHENTICATE, SELECT/EXAMINE, STATUS, NOOP, LOGOUT, and for the round
// trip UID SEARCH, UID FETCH of headers, UID STORE, (UID) EXPUNGE, LIST and
// IDLE. Other commands are built on the same primitive, Client.Start /
// Pending.Next / Pending.Wait, with the response's Fields as their parser.
package imap

import (
	"strconv"
	"strings"

	"github.com/mailmon/mailmon/internal/wire"
)

// LineReader is what responses are read from: lines without their line
// endings, and literals of an exact size. *wire.Conn is one.
type LineReader interface {
	ReadLine() (string, error)
	ReadFull(n int64) ([]byte, error)
}

// ResponseLimits bound one response.
type ResponseLimits struct {
	MaxLiteral  int64 // the largest literal accepted, checked before it is read
	MaxLiterals int   // literals in one response; its lines are at most one more
}

// Response is one server response: a status or data response, or a
// continuation request. A response with literals spans several lines:
// Lines[i] ends with the announcement ("{12}") of Literals[i], and the line
// after it continues the response.
type Response struct {
	Tag      string // "*" untagged, "+" continuation request, else the tag of a command
	Lines    []string
	Literals [][]byte
}

// Untagged reports a "*" response.
func (r *Response) Untagged() bool { return r.Tag == "*" }

// Continuation reports a "+" continuation request.
func (r *Response) Continuation() bool { return r.Tag == "+" }

// Text is what follows the tag on the first line (of a continuation
// request: the base64 challenge or the server's text).
func (r *Response) Text() string {
	l := r.Lines[0]
	if len(l) <= len(r.Tag) {
		return ""
	}
	return l[len(r.Tag)+1:]
}

// String is the response as the server wrote it, literals left out, made
// safe to store and show.
func (r *Response) String() string {
	return wire.Truncate(wire.Sanitize(strings.Join(r.Lines, "")), 512)
}

// Name is the keyword of a response, upper case: OK, NO, BAD, BYE, PREAUTH
// for status responses; CAPABILITY, STATUS, LIST, SEARCH, or the word after
// the number (EXISTS, EXPUNGE, FETCH) for data. "" for a continuation.
func (r *Response) Name() string {
	if r.Continuation() {
		return ""
	}
	w1, rest, _ := strings.Cut(r.Text(), " ")
	if isNumber(w1) && r.Untagged() {
		w1, _, _ = strings.Cut(rest, " ")
	}
	return strings.ToUpper(w1)
}

// Number is the number of a data response such as "* 3 EXISTS" or
// "* 7 FETCH (…)"; ok is false when there is none.
func (r *Response) Number() (n uint32, ok bool) {
	if !r.Untagged() {
		return 0, false
	}
	w1, _, _ := strings.Cut(r.Text(), " ")
	return parseNumber(w1)
}

// isStatus reports a status response: tagged, or untagged with a status
// keyword. Their text is free text: it never carries a literal.
func isStatus(tag, text string) bool {
	if tag == "+" {
		return false
	}
	if tag != "*" {
		return true
	}
	w, _, _ := strings.Cut(text, " ")
	switch strings.ToUpper(w) {
	case "OK", "NO", "BAD", "BYE", "PREAUTH":
		return true
	}
	return false
}

// ReadResponse reads one response. The size a literal announces is checked
// against lim.MaxLiteral before the literal is read, so a server cannot make
// the client allocate more than the cap; a response with more than
// lim.MaxLiterals literals is a protocol violation.
func ReadResponse(r LineReader, lim ResponseLimits) (*Response, error) {
	line, err := r.ReadLine()
	if err != nil {
		return nil, err
	}
	tag, err := parseTag(line)
	if err != nil {
		return nil, err
	}
	resp := &Response{Tag: tag, Lines: []string{line}}
	// A continuation request's text is resp-text or base64 (RFC 9051 §7.5),
	// a status response's is free text: a "{5}" ending either is text, not
	// the announcement of a literal.
	if resp.Continuation() || isStatus(tag, resp.Text()) {
		return resp, nil
	}
	for {
		n, ok, err := literalSize(line)
		if err != nil {
			return nil, err
		}
		if !ok {
			return resp, nil
		}
		if n > lim.MaxLiteral {
			return nil, wire.Violation("literal of %d bytes announced, over the cap of %d", n, lim.MaxLiteral)
		}
		if len(resp.Literals) >= lim.MaxLiterals {
			return nil, wire.Violation("response with more than %d literals", lim.MaxLiterals)
		}
		lit, err := r.ReadFull(n)
		if err != nil {
			return nil, err
		}
		resp.Literals = append(resp.Literals, lit)
		if line, err = r.ReadLine(); err != nil {
			return nil, err
		}
		resp.Lines = append(resp.Lines, line)
	}
}

// parseTag returns the tag of a response line: "*", "+", or a command tag.
func parseTag(line string) (string, error) {
	switch {
	case line == "+" || strings.HasPrefix(line, "+ "):
		return "+", nil
	case strings.HasPrefix(line, "* ") && len(line) > 2:
		return "*", nil
	}
	tag, rest, ok := strings.Cut(line, " ")
	if !ok || tag == "" || rest == "" || !validTag(tag) {
		return "", wire.Violation("malformed response %q", wire.Truncate(wire.Sanitize(line), 80))
	}
	return tag, nil
}

// validTag: a tag is made of ASTRING-CHARs other than "+" (RFC 9051 §9).
func validTag(tag string) bool {
	for i := 0; i < len(tag); i++ {
		if !isAtomChar(tag[i]) && tag[i] != ']' || tag[i] == '+' {
			return false
		}
	}
	return true
}

// isAtomChar is ATOM-CHAR: any CHAR but atom-specials.
func isAtomChar(b byte) bool {
	if b <= 0x20 || b >= 0x7f {
		return false
	}
	switch b {
	case '(', ')', '{', '%', '*', '"', '\\', ']':
		return false
	}
	return true
}

// literalSize finds the announcement "{n}" (or "{n+}", "~{n}") that ends a
// line. A malformed or overflowing number is a protocol violation.
func literalSize(line string) (n int64, ok bool, err error) {
	if !strings.HasSuffix(line, "}") {
		return 0, false, nil
	}
	open := strings.LastIndexByte(line, '{')
	if open < 0 {
		return 0, false, nil
	}
	digits := strings.TrimSuffix(line[open+1:len(line)-1], "+")
	if digits == "" || !isNumber(digits) {
		return 0, false, nil // text that happens to end in braces
	}
	n, err = strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, false, wire.Violation("literal size %s is out of range", wire.Truncate(digits, 24))
	}
	return n, true, nil
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseNumber reads an IMAP number (32 bits unsigned).
func parseNumber(s string) (uint32, bool) {
	if !isNumber(s) {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil
}
