package imap

import (
	"strings"

	"github.com/mailmon/mailmon/internal/wire"
)

// Kind is the kind of a Field.
type Kind int

// The kinds of fields in a data response.
const (
	AtomField   Kind = iota // an atom or number, NIL included; a section "BODY[HEADER]<0>" is one atom
	StringField             // a quoted string or a literal
	ListField               // a parenthesized list
)

// Field is one item of a data response.
type Field struct {
	Kind    Kind
	Text    string  // an atom's text, a string's contents
	List    []Field // a list's items
	Literal bool    // the string came as a literal
}

// IsNil reports the atom NIL.
func (f Field) IsNil() bool { return f.Kind == AtomField && strings.EqualFold(f.Text, "NIL") }

// Number returns the field as a 32-bit number.
func (f Field) Number() (uint32, bool) {
	if f.Kind != AtomField {
		return 0, false
	}
	return parseNumber(f.Text)
}

// AString returns an atom's or a string's text (an astring, RFC 9051 §9).
func (f Field) AString() (string, bool) {
	if f.Kind == ListField || f.IsNil() {
		return "", false
	}
	return f.Text, true
}

// maxDepth bounds nested lists, so that a hostile response cannot recurse
// deeply; no response a monitor reads nests more than a few levels.
const maxDepth = 16

// Fields parses a data response after its tag ("* 3 EXISTS" is the atoms 3
// and EXISTS; "* STATUS INBOX (MESSAGES 2)" is STATUS, INBOX and a list).
// Literals take the place of their announcement. Status responses and
// continuation requests are free text and have no fields.
func (r *Response) Fields() ([]Field, error) {
	if !r.Untagged() || isStatus(r.Tag, r.Text()) {
		return nil, wire.Violation("not a data response: %q", wire.Truncate(r.String(), 80))
	}
	sc := &scanner{r: r, s: r.Text()}
	fs, err := sc.list(0)
	if err != nil {
		return nil, err
	}
	if sc.s != "" || sc.seg != len(r.Lines)-1 {
		return nil, sc.bad("unbalanced parenthesis")
	}
	return fs, nil
}

type scanner struct {
	r   *Response
	seg int    // the line being read
	s   string // what is left of it
}

func (sc *scanner) bad(what string) error {
	return wire.Violation("%s in %q", what, wire.Truncate(sc.r.String(), 80))
}

// list reads fields up to a ")" (depth > 0) or the end (depth 0).
func (sc *scanner) list(depth int) ([]Field, error) {
	var out []Field
	for {
		sc.s = strings.TrimLeft(sc.s, " ")
		if sc.s == "" {
			if depth > 0 {
				return nil, sc.bad("unterminated list")
			}
			return out, nil
		}
		switch c := sc.s[0]; {
		case c == ')':
			if depth == 0 {
				return out, nil // reported by the caller
			}
			sc.s = sc.s[1:]
			return out, nil
		case c == '(':
			if depth >= maxDepth {
				return nil, sc.bad("lists nested too deeply")
			}
			sc.s = sc.s[1:]
			items, err := sc.list(depth + 1)
			if err != nil {
				return nil, err
			}
			out = append(out, Field{Kind: ListField, List: items})
		case c == '"':
			f, err := sc.quoted()
			if err != nil {
				return nil, err
			}
			out = append(out, f)
		case sc.atLiteral():
			out = append(out, Field{Kind: StringField, Text: string(sc.r.Literals[sc.seg]), Literal: true})
			sc.seg++
			sc.s = sc.r.Lines[sc.seg]
		default:
			out = append(out, Field{Kind: AtomField, Text: sc.atom()})
		}
	}
}

// atLiteral reports whether what is left of the line is exactly the
// announcement of the literal that follows it.
func (sc *scanner) atLiteral() bool {
	if sc.seg >= len(sc.r.Literals) {
		return false
	}
	s := strings.TrimPrefix(sc.s, "~")
	if !strings.HasPrefix(s, "{") {
		return false
	}
	_, ok, err := literalSize(s)
	return ok && err == nil && strings.IndexByte(s[1:], '{') < 0
}

// atom reads up to a space or parenthesis; a "[...]" section inside it is
// read whole, spaces and parentheses included.
func (sc *scanner) atom() string {
	s := sc.s
	i := 0
	for i < len(s) {
		switch s[i] {
		case ' ', '(', ')':
			sc.s = s[i:]
			return s[:i]
		case '[':
			if end := strings.IndexByte(s[i:], ']'); end > 0 {
				i += end
			}
		}
		i++
	}
	sc.s = ""
	return s
}

func (sc *scanner) quoted() (Field, error) {
	var b strings.Builder
	s := sc.s
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			sc.s = s[i+1:]
			return Field{Kind: StringField, Text: b.String()}, nil
		default:
			b.WriteByte(s[i])
		}
	}
	return Field{}, sc.bad("unterminated quoted string")
}
