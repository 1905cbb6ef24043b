// Package smtp is the SMTP client of mailmon's probes (RFC 5321, 3207, 4954),
// written on package wire so that every read is bounded and every line is in
// the transcript. It speaks only what a monitor needs.
package smtp

import (
	"strconv"
	"strings"

	"github.com/mailmon/mailmon/internal/wire"
)

// LineReader yields reply lines without their line endings.
type LineReader interface {
	ReadLine() (string, error)
}

// Reply is one SMTP reply, possibly of several lines.
type Reply struct {
	Code  int
	Lines []string // text of each line, after the code and separator
	// first holds Lines while they are few (all but an EHLO reply): a
	// reply is then one allocation, not two (BenchmarkTestPath).
	first [4]string
}

// String is the reply as the server wrote it, lines joined by " / ".
func (r *Reply) String() string {
	var b strings.Builder
	for i, l := range r.Lines {
		if i > 0 {
			b.WriteString(" / ")
		}
		b.WriteString(strconv.Itoa(r.Code))
		if l != "" {
			b.WriteByte(' ')
			b.WriteString(l)
		}
	}
	if len(r.Lines) == 0 {
		b.WriteString(strconv.Itoa(r.Code))
	}
	return wire.Sanitize(b.String())
}

// Positive reports a 2xx or 3xx reply.
func (r *Reply) Positive() bool { return r.Code >= 200 && r.Code < 400 }

// Err turns a negative reply into a *wire.ServerError.
func (r *Reply) Err() error {
	return &wire.ServerError{Reply: r.String(), Temporary: r.Code/100 == 4}
}

// ReadReply reads one reply: lines "ddd-text" continue it, "ddd text" or a
// bare "ddd" end it. Every line must carry the same code. More than maxLines
// lines is a protocol violation, so a server cannot continue a reply forever.
func ReadReply(r LineReader, maxLines int) (*Reply, error) {
	rep := &Reply{}
	rep.Lines = rep.first[:0]
	for {
		line, err := r.ReadLine()
		if err != nil {
			return nil, err
		}
		code, more, text, err := parseLine(line)
		if err != nil {
			return nil, err
		}
		if len(rep.Lines) == 0 {
			rep.Code = code
		} else if code != rep.Code {
			return nil, wire.Violation("reply code changed from %d to %d within one reply", rep.Code, code)
		}
		rep.Lines = append(rep.Lines, text)
		if !more {
			return rep, nil
		}
		if len(rep.Lines) >= maxLines {
			return nil, wire.Violation("reply longer than %d lines", maxLines)
		}
	}
}

// ReplyCode is the code of one reply line ("250 2.0.0 Ok", "454-…"); ok is
// false when the line is no reply line.
func ReplyCode(line string) (code int, ok bool) {
	code, _, _, err := parseLine(line)
	return code, err == nil
}

func parseLine(line string) (code int, more bool, text string, err error) {
	if len(line) < 3 {
		return 0, false, "", wire.Violation("malformed reply %q", wire.Truncate(wire.Sanitize(line), 80))
	}
	for i := 0; i < 3; i++ {
		if line[i] < '0' || line[i] > '9' {
			return 0, false, "", wire.Violation("malformed reply %q", wire.Truncate(wire.Sanitize(line), 80))
		}
	}
	code, _ = strconv.Atoi(line[:3])
	if code < 200 || code > 599 {
		return 0, false, "", wire.Violation("reply code %d out of range", code)
	}
	if len(line) == 3 {
		return code, false, "", nil
	}
	switch line[3] {
	case '-':
		more = true
	case ' ':
	default:
		return 0, false, "", wire.Violation("malformed reply %q", wire.Truncate(wire.Sanitize(line), 80))
	}
	return code, more, line[4:], nil
}
