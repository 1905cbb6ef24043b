package imap

import (
	"strings"

	"github.com/mailmon/mailmon/internal/wire"
)

// Status response types.
const (
	OK      = "OK"
	NO      = "NO"
	BAD     = "BAD"
	BYE     = "BYE"
	PREAUTH = "PREAUTH"
)

// Status is a status response: "tag OK [CODE args] text", or untagged.
type Status struct {
	Tag     string // "*" for untagged
	Type    string // OK, NO, BAD, BYE, PREAUTH
	Code    string // response code, upper case ("CAPABILITY", "UIDVALIDITY"); "" if none
	CodeArg string // what follows the code inside the brackets
	Text    string // the human-readable text, sanitized
	line    string
}

// String is the response line as the server wrote it, sanitized.
func (s *Status) String() string { return s.line }

// Temporary reports a refusal the server says is temporary (RFC 5530).
func (s *Status) Temporary() bool {
	switch s.Code {
	case "UNAVAILABLE", "SERVERBUG", "INUSE":
		return true
	}
	return false
}

// Err is nil for OK (and PREAUTH), and a *wire.ServerError with the
// server's words for NO, BAD and BYE.
func (s *Status) Err() error {
	if s.Type == OK || s.Type == PREAUTH {
		return nil
	}
	return &wire.ServerError{Reply: s.line, Temporary: s.Temporary()}
}

// Status parses a status response. Anything else (a data response, a
// continuation request, a status response with a malformed code) is a
// protocol violation.
func (r *Response) Status() (*Status, error) {
	if r.Continuation() {
		return nil, wire.Violation("expected a status response, got continuation request %q", wire.Truncate(r.String(), 80))
	}
	typ, rest, _ := strings.Cut(r.Text(), " ")
	typ = strings.ToUpper(typ)
	switch typ {
	case OK, NO, BAD:
	case BYE, PREAUTH:
		if !r.Untagged() {
			return nil, wire.Violation("tagged %s response %q", typ, wire.Truncate(r.String(), 80))
		}
	default:
		return nil, wire.Violation("expected a status response, got %q", wire.Truncate(r.String(), 80))
	}
	s := &Status{Tag: r.Tag, Type: typ, line: r.String()}
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return nil, wire.Violation("unterminated response code in %q", wire.Truncate(r.String(), 80))
		}
		code, arg, _ := strings.Cut(rest[1:end], " ")
		if code == "" {
			return nil, wire.Violation("empty response code in %q", wire.Truncate(r.String(), 80))
		}
		s.Code, s.CodeArg = strings.ToUpper(code), arg
		rest = strings.TrimPrefix(rest[end+1:], " ")
	}
	s.Text = wire.Sanitize(rest)
	return s, nil
}
