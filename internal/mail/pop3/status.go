// Package pop3 is the POP3 client of mailmon's probes (RFC 1939, 2449 CAPA,
// 2595 STLS, 5034 AUTH, 3206 response codes), written on package wire so that
// every read is bounded and every line is in the transcript. It speaks only
// what a monitor needs: login, the maildrop commands a round trip uses, QUIT.
package pop3

import (
	"strings"

	"github.com/mailmon/mailmon/internal/wire"
)

// LineReader yields reply lines without their line endings.
type LineReader interface {
	ReadLine() (string, error)
}

// Status is one POP3 status line: "+OK text" or "-ERR text".
type Status struct {
	OK bool
	// Code is the response code of RFC 2449 §8 in upper case ("AUTH",
	// "SYS/TEMP", "IN-USE", "LOGIN-DELAY"), or "" when the line has none.
	Code string
	// Text is what follows the indicator, response code included, as the
	// server sent it. Use String for anything stored or shown.
	Text string
}

// String is the status line as the server wrote it, sanitized.
func (s *Status) String() string {
	ind := "-ERR"
	if s.OK {
		ind = "+OK"
	}
	if s.Text == "" {
		return ind
	}
	return wire.Sanitize(ind + " " + s.Text)
}

// Temporary reports a refusal the server says may pass: a system problem
// (SYS/TEMP), a locked maildrop (IN-USE) or a login too soon (LOGIN-DELAY).
func (s *Status) Temporary() bool {
	switch s.Code {
	case "SYS/TEMP", "IN-USE", "LOGIN-DELAY":
		return true
	}
	return false
}

// Err turns a -ERR status into a *wire.ServerError.
func (s *Status) Err() error {
	return &wire.ServerError{Reply: s.String(), Temporary: s.Temporary()}
}

// AuthErr turns a -ERR answer to a login command into an error. The response
// codes of RFC 3206 tell a rejection of the credentials ([AUTH], or no code)
// from a server that could not check them ([SYS/…], [IN-USE],
// [LOGIN-DELAY]): only the first is an authentication failure.
func (s *Status) AuthErr() error {
	if s.Code == "SYS" || strings.HasPrefix(s.Code, "SYS/") || s.Code == "IN-USE" || s.Code == "LOGIN-DELAY" {
		return s.Err()
	}
	return &wire.AuthError{Reply: s.String()}
}

// ParseStatus parses a status line. The indicators are matched without
// regard to case (RFC 1939 asks servers for upper case; clients accept
// both); anything else is a protocol violation.
func ParseStatus(line string) (*Status, error) {
	var st Status
	var rest string
	switch {
	case hasPrefixFold(line, "+OK"):
		st.OK, rest = true, line[3:]
	case hasPrefixFold(line, "-ERR"):
		rest = line[4:]
	default:
		return nil, wire.Violation("expected +OK or -ERR, got %q", wire.Truncate(wire.Sanitize(line), 80))
	}
	if rest != "" && rest[0] != ' ' {
		return nil, wire.Violation("malformed status line %q", wire.Truncate(wire.Sanitize(line), 80))
	}
	st.Text = strings.TrimPrefix(rest, " ")
	st.Code = respCode(st.Text)
	return &st, nil
}

// respCode returns the response code at the start of text ("[SYS/TEMP] …"),
// or "" when there is none or it is malformed (then it is only text).
func respCode(text string) string {
	if !strings.HasPrefix(text, "[") {
		return ""
	}
	end := strings.IndexByte(text, ']')
	if end < 2 {
		return ""
	}
	code := text[1:end]
	for _, level := range strings.Split(code, "/") {
		if level == "" {
			return ""
		}
		for i := 0; i < len(level); i++ {
			// rchar of RFC 2449 §8: printable, not "/" or "]"
			if b := level[i]; b < 0x21 || b > 0x7e {
				return ""
			}
		}
	}
	return strings.ToUpper(code)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// ReadStatus reads one status line.
func ReadStatus(r LineReader) (*Status, error) {
	line, err := r.ReadLine()
	if err != nil {
		return nil, err
	}
	return ParseStatus(line)
}

// ReadMultiline reads the body of a multi-line response, after its +OK
// line: lines up to the terminating ".", with the byte-stuffing dot removed
// (RFC 1939 §3). More than maxLines lines is a protocol violation, so a
// server that never sends the terminator costs a bounded amount of memory;
// the connection's byte budget and deadline bound the rest.
func ReadMultiline(r LineReader, maxLines int) ([]string, error) {
	var lines []string
	for {
		line, err := r.ReadLine()
		if err != nil {
			return nil, err
		}
		if line == "." {
			return lines, nil
		}
		if len(lines) >= maxLines {
			return nil, wire.Violation("multi-line response longer than %d lines", maxLines)
		}
		lines = append(lines, strings.TrimPrefix(line, "."))
	}
}
