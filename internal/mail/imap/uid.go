package imap

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mailmon/mailmon/internal/wire"
)

// MaxSearchResults bounds the UIDs one search may return, so that a server
// cannot make the client expand a range such as 1:4294967295.
const MaxSearchResults = 1 << 16

// UIDSearch runs UID SEARCH with criteria (atoms and strings, e.g.
// Atom("HEADER"), String("X-Mailmon-Probe"), String("v1")) and returns the
// UIDs found, in the order the server gave them. Both answers are read: the
// SEARCH response of IMAP4rev1 and the ESEARCH response of IMAP4rev2.
func (cl *Client) UIDSearch(criteria ...Arg) ([]uint32, error) {
	var uids []uint32
	handle := func(r *Response) error {
		var err error
		switch r.Name() {
		case "SEARCH":
			uids, err = searchResponse(r, uids)
		case "ESEARCH":
			uids, err = esearchResponse(r, uids)
		}
		return err
	}
	if _, err := cl.Do(handle, "UID SEARCH", criteria...); err != nil {
		return nil, err
	}
	return uids, nil
}

// searchResponse reads "* SEARCH 4 9".
func searchResponse(r *Response, uids []uint32) ([]uint32, error) {
	fs, err := r.Fields()
	if err != nil {
		return nil, err
	}
	for _, f := range fs[1:] {
		n, ok := f.Number()
		if !ok || n == 0 {
			return nil, wire.Violation("malformed SEARCH response: %q", wire.Truncate(r.String(), 80))
		}
		if len(uids) >= MaxSearchResults {
			return nil, wire.Violation("more than %d search results", MaxSearchResults)
		}
		uids = append(uids, n)
	}
	return uids, nil
}

// esearchResponse reads "* ESEARCH (TAG "a3") UID ALL 4,7:9" (RFC 4731):
// the ALL set; MIN, MAX and COUNT are skipped.
func esearchResponse(r *Response, uids []uint32) ([]uint32, error) {
	fs, err := r.Fields()
	if err != nil {
		return nil, err
	}
	bad := func() error {
		return wire.Violation("malformed ESEARCH response: %q", wire.Truncate(r.String(), 80))
	}
	fs = fs[1:]
	if len(fs) > 0 && fs[0].Kind == ListField {
		fs = fs[1:] // the tag correlator
	}
	if len(fs) > 0 && fs[0].Kind == AtomField && strings.EqualFold(fs[0].Text, "UID") {
		fs = fs[1:]
	}
	for i := 0; i < len(fs); i += 2 {
		if fs[i].Kind != AtomField || i+1 >= len(fs) {
			return nil, bad()
		}
		if !strings.EqualFold(fs[i].Text, "ALL") {
			continue
		}
		if fs[i+1].Kind != AtomField {
			return nil, bad()
		}
		if uids, err = ParseSet(fs[i+1].Text, uids, MaxSearchResults); err != nil {
			return nil, err
		}
	}
	return uids, nil
}

// ParseSet appends the numbers of a sequence set ("4,7:9") to out; a set of
// more than max numbers, a "*" or a 0 is a protocol violation.
func ParseSet(set string, out []uint32, max int) ([]uint32, error) {
	bad := func() ([]uint32, error) {
		return nil, wire.Violation("malformed or oversized sequence set %q", wire.Truncate(wire.Sanitize(set), 80))
	}
	for _, part := range strings.Split(set, ",") {
		lo, hi, isRange := strings.Cut(part, ":")
		a, ok := parseNumber(lo)
		if !ok || a == 0 {
			return bad()
		}
		b := a
		if isRange {
			if b, ok = parseNumber(hi); !ok || b == 0 {
				return bad()
			}
			if b < a {
				a, b = b, a
			}
		}
		if uint64(b-a)+1 > uint64(max-len(out)) {
			return bad()
		}
		for n := a; ; n++ {
			out = append(out, n)
			if n == b {
				break
			}
		}
	}
	return out, nil
}

// FormatSet writes numbers as a sequence set, runs as ranges: "1:3,7".
func FormatSet(nums []uint32) string {
	s := slices.Clone(nums)
	slices.Sort(s)
	s = slices.Compact(s)
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] == s[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(uint64(s[i]), 10))
		if j > i {
			b.WriteByte(':')
			b.WriteString(strconv.FormatUint(uint64(s[j]), 10))
		}
		i = j + 1
	}
	return b.String()
}

// Header is a message's header block as UIDFetchHeader read it.
type Header struct {
	Seq uint32 // the message's sequence number when it was fetched
	UID uint32
	Raw []byte // the header block, ending in its blank line; nil for NIL
}

// UIDFetchHeader fetches the header block of the messages uids without
// setting \Seen: BODY.PEEK[HEADER], or with fields only those header fields
// (BODY.PEEK[HEADER.FIELDS (...)]). It never fetches a body. Responses for
// messages not asked for, or without the header (a flag change another
// session made), are left out.
func (cl *Client) UIDFetchHeader(uids []uint32, fields ...string) ([]Header, error) {
	if len(uids) == 0 {
		return nil, nil
	}
	section := "HEADER"
	if len(fields) > 0 {
		for _, f := range fields {
			if f == "" || strings.IndexFunc(f, func(r rune) bool { return !isFieldChar(r) }) >= 0 {
				return nil, fmt.Errorf("imap: header field name %q cannot be sent as an atom", wire.Truncate(f, 40))
			}
		}
		section = "HEADER.FIELDS (" + strings.Join(fields, " ") + ")"
	}
	want := make(map[uint32]bool, len(uids))
	for _, u := range uids {
		want[u] = true
	}
	var out []Header
	handle := func(r *Response) error {
		if r.Name() != "FETCH" {
			return nil
		}
		h, ok, err := fetchHeader(r)
		if err != nil || !ok || !want[h.UID] {
			return err
		}
		out = append(out, h)
		return nil
	}
	if _, err := cl.Do(handle, "UID FETCH", Atom(FormatSet(uids)), Atom("(UID BODY.PEEK["+section+"])")); err != nil {
		return nil, err
	}
	return out, nil
}

// isFieldChar: header field names are printable ASCII but ":" (RFC 5322);
// IMAP sends them as atoms here, so atom specials are out too.
func isFieldChar(r rune) bool {
	return r < 0x7f && r > ' ' && r != ':' && isAtomChar(byte(r))
}

// fetchHeader reads "* 3 FETCH (UID 7 BODY[HEADER] {120}...)"; ok is false
// for a FETCH response without UID or header.
func fetchHeader(r *Response) (Header, bool, error) {
	bad := func() (Header, bool, error) {
		return Header{}, false, wire.Violation("malformed FETCH response: %q", wire.Truncate(r.String(), 80))
	}
	fs, err := r.Fields()
	if err != nil {
		return Header{}, false, err
	}
	if len(fs) != 3 || fs[2].Kind != ListField || len(fs[2].List)%2 != 0 {
		return bad()
	}
	seq, ok := fs[0].Number()
	if !ok {
		return bad()
	}
	h := Header{Seq: seq}
	var haveUID, haveHeader bool
	items := fs[2].List
	for i := 0; i < len(items); i += 2 {
		if items[i].Kind != AtomField {
			return bad()
		}
		key, v := strings.ToUpper(items[i].Text), items[i+1]
		switch {
		case key == "UID":
			if h.UID, ok = v.Number(); !ok {
				return bad()
			}
			haveUID = true
		case strings.HasPrefix(key, "BODY[HEADER"):
			switch {
			case v.IsNil():
			case v.Kind == StringField:
				h.Raw = []byte(v.Text)
			default:
				return bad()
			}
			haveHeader = true
		}
	}
	return h, haveUID && haveHeader, nil
}

// UIDStore changes the flags of the messages uids: item is "+FLAGS",
// "-FLAGS" or "FLAGS", with ".SILENT" to spare the server's answer.
func (cl *Client) UIDStore(uids []uint32, item string, flags ...string) error {
	if len(uids) == 0 {
		return nil
	}
	_, err := cl.Do(nil, "UID STORE", Atom(FormatSet(uids)), Atom(item), Atom("("+strings.Join(flags, " ")+")"))
	return err
}

// UIDExpunge removes the messages uids, if they are flagged \Deleted, and
// no other (RFC 4315 UIDPLUS; part of IMAP4rev2).
func (cl *Client) UIDExpunge(uids []uint32) error {
	if len(uids) == 0 {
		return nil
	}
	_, err := cl.Do(nil, "UID EXPUNGE", Atom(FormatSet(uids)))
	return err
}

// Expunge removes every message of the selected mailbox that is flagged
// \Deleted, whoever flagged it.
func (cl *Client) Expunge() error {
	_, err := cl.Do(nil, "EXPUNGE")
	return err
}

// ListItem is one mailbox of a LIST response.
type ListItem struct {
	Attrs []string // as the server wrote them: `\Junk`, `\HasNoChildren`
	Delim string   // the hierarchy delimiter; "" for none
	Name  string   // decoded from modified UTF-7 (IMAP4rev1)
}

// HasAttr reports whether the mailbox has the attribute, in any case.
func (l ListItem) HasAttr(attr string) bool {
	return slices.ContainsFunc(l.Attrs, func(a string) bool { return strings.EqualFold(a, attr) })
}

// List runs LIST ref pattern; selectOpts and returnOpts are LIST-EXTENDED
// options (RFC 5258), such as SPECIAL-USE (RFC 6154); nil for none.
func (cl *Client) List(ref, pattern string, selectOpts, returnOpts []string) ([]ListItem, error) {
	var args []Arg
	if len(selectOpts) > 0 {
		args = append(args, Atom("("+strings.Join(selectOpts, " ")+")"))
	}
	args = append(args, Mailbox(ref), Mailbox(pattern))
	if len(returnOpts) > 0 {
		args = append(args, Atom("RETURN"), Atom("("+strings.Join(returnOpts, " ")+")"))
	}
	var out []ListItem
	handle := func(r *Response) error {
		if r.Name() != "LIST" {
			return nil
		}
		item, err := cl.listResponse(r)
		if err != nil {
			return err
		}
		out = append(out, item)
		return nil
	}
	if _, err := cl.Do(handle, "LIST", args...); err != nil {
		return nil, err
	}
	return out, nil
}

// listResponse reads `* LIST (\HasNoChildren \Junk) "/" Junk`.
func (cl *Client) listResponse(r *Response) (ListItem, error) {
	bad := func() (ListItem, error) {
		return ListItem{}, wire.Violation("malformed LIST response: %q", wire.Truncate(r.String(), 80))
	}
	fs, err := r.Fields()
	if err != nil {
		return ListItem{}, err
	}
	if len(fs) < 4 || fs[1].Kind != ListField {
		return bad()
	}
	var item ListItem
	for _, a := range fs[1].List {
		if a.Kind != AtomField {
			return bad()
		}
		item.Attrs = append(item.Attrs, wire.Sanitize(a.Text))
	}
	switch {
	case fs[2].IsNil():
	case fs[2].Kind == StringField:
		item.Delim = fs[2].Text
	default:
		return bad()
	}
	name, ok := fs[3].AString()
	if !ok {
		return bad()
	}
	if !(cl.Has("IMAP4rev2") && !cl.Has("IMAP4rev1")) {
		if dec, err := DecodeMailbox(name); err == nil {
			name = dec
		}
	}
	item.Name = name
	return item, nil
}
