package pop3

import (
	"strconv"
	"strings"

	"github.com/mailmon/mailmon/internal/wire"
)

// MessageInfo describes one message of the maildrop: its number in this
// session, and its size (LIST) or its unique id (UIDL).
type MessageInfo struct {
	ID   int
	Size int64
	UID  string
}

// Stat returns the number of messages and their total size in octets.
func (cl *Client) Stat() (count int, octets int64, err error) {
	st, err := cl.ok("STAT")
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(st.Text)
	if len(f) < 2 {
		return 0, 0, wire.Violation("malformed STAT response %q", wire.Truncate(st.String(), 80))
	}
	n, err1 := atoi(f[0])
	size, err2 := atoi64(f[1])
	if err1 != nil || err2 != nil {
		return 0, 0, wire.Violation("malformed STAT response %q", wire.Truncate(st.String(), 80))
	}
	return n, size, nil
}

// List returns the size of message id.
func (cl *Client) List(id int) (MessageInfo, error) {
	st, err := cl.ok("LIST " + strconv.Itoa(id))
	if err != nil {
		return MessageInfo{}, err
	}
	return parseScan(st.Text, id)
}

// ListAll returns the size of every message. The response is capped by the
// connection's MaxReplyLines: on a large maildrop use STAT and List(id).
func (cl *Client) ListAll() ([]MessageInfo, error) { return cl.listing("LIST", parseScan) }

// listing sends a whole-maildrop LIST or UIDL and parses each line.
func (cl *Client) listing(cmd string, parse func(string, int) (MessageInfo, error)) ([]MessageInfo, error) {
	if _, err := cl.ok(cmd); err != nil {
		return nil, err
	}
	lines, err := cl.multiline(0)
	if err != nil {
		return nil, err
	}
	out := make([]MessageInfo, 0, len(lines))
	for _, l := range lines {
		m, err := parse(l, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// parseScan parses "id size"; want, if not 0, is the id asked for.
func parseScan(s string, want int) (MessageInfo, error) {
	f := strings.Fields(s)
	if len(f) >= 2 {
		id, err1 := atoi(f[0])
		size, err2 := atoi64(f[1])
		if err1 == nil && err2 == nil && id > 0 && (want == 0 || id == want) {
			return MessageInfo{ID: id, Size: size}, nil
		}
	}
	return MessageInfo{}, wire.Violation("malformed scan listing %q", wire.Truncate(wire.Sanitize(s), 80))
}

// Uidl returns the unique id of message id.
func (cl *Client) Uidl(id int) (MessageInfo, error) {
	st, err := cl.ok("UIDL " + strconv.Itoa(id))
	if err != nil {
		return MessageInfo{}, err
	}
	return parseUID(st.Text, id)
}

// UidlAll returns the unique id of every message, capped like ListAll.
func (cl *Client) UidlAll() ([]MessageInfo, error) { return cl.listing("UIDL", parseUID) }

// parseUID parses "id uid"; a uid is 1 to 70 characters 0x21–0x7E (RFC 1939 §7).
func parseUID(s string, want int) (MessageInfo, error) {
	f := strings.Fields(s)
	if len(f) >= 2 {
		id, err := atoi(f[0])
		if err == nil && id > 0 && (want == 0 || id == want) && validUID(f[1]) {
			return MessageInfo{ID: id, UID: f[1]}, nil
		}
	}
	return MessageInfo{}, wire.Violation("malformed unique-id listing %q", wire.Truncate(wire.Sanitize(s), 80))
}

func validUID(u string) bool {
	if len(u) == 0 || len(u) > 70 {
		return false
	}
	for i := 0; i < len(u); i++ {
		if u[i] < 0x21 || u[i] > 0x7e {
			return false
		}
	}
	return true
}

// Top returns the header of message id and the first lines of its body,
// with CRLF line endings.
func (cl *Client) Top(id, lines int) ([]byte, error) {
	if lines < 0 {
		lines = 0
	}
	return cl.message("TOP " + strconv.Itoa(id) + " " + strconv.Itoa(lines))
}

// Retr returns message id, with CRLF line endings.
func (cl *Client) Retr(id int) ([]byte, error) {
	return cl.message("RETR " + strconv.Itoa(id))
}

func (cl *Client) message(cmd string) ([]byte, error) {
	if _, err := cl.ok(cmd); err != nil {
		return nil, err
	}
	return cl.body()
}

// body reads the message of a RETR or TOP response after its +OK.
func (cl *Client) body() ([]byte, error) {
	lines, err := cl.multiline(cl.MessageLines)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, l := range lines {
		n += len(l) + 2
	}
	b := make([]byte, 0, n)
	for _, l := range lines {
		b = append(b, l...)
		b = append(b, '\r', '\n')
	}
	return b, nil
}

// Pipelining reports whether the server takes commands before it answered
// the previous ones (RFC 2449 PIPELINING).
func (cl *Client) Pipelining() bool {
	_, ok := cl.Cap("PIPELINING")
	return ok
}

// maxPipeline bounds the commands sent ahead of their responses: about a
// kilobyte, which any server's receive buffer holds while it is busy
// writing responses not read yet, so neither side can block the other.
const maxPipeline = 100

// each sends cmd(id) for every id and reads each response with read, in
// order: in batches of maxPipeline when the server does PIPELINING, else
// one at a time. A read error ends it; the session is then out of step.
func (cl *Client) each(ids []int, cmd func(id int) string, read func(id int) error) error {
	batch := 1
	if cl.Pipelining() {
		batch = maxPipeline
	}
	for len(ids) > 0 {
		n := min(batch, len(ids))
		for _, id := range ids[:n] {
			if err := cl.conn.WriteLine(cmd(id)); err != nil {
				return err
			}
		}
		for _, id := range ids[:n] {
			if err := read(id); err != nil {
				return err
			}
		}
		ids = ids[n:]
	}
	return nil
}

// TopEach reads the header and the first lines of the body of each message
// of ids (TOP), handing each to fn in order; a -ERR comes to fn as a
// *wire.ServerError and the next message follows. With PIPELINING this
// costs one round trip per hundred messages instead of one per message.
// Any other error ends TopEach, and the session is no longer usable.
func (cl *Client) TopEach(ids []int, lines int, fn func(id int, msg []byte, err error)) error {
	n := strconv.Itoa(max(lines, 0))
	return cl.each(ids, func(id int) string { return "TOP " + strconv.Itoa(id) + " " + n }, func(id int) error {
		st, err := cl.status()
		if err != nil {
			return err
		}
		if !st.OK {
			fn(id, nil, st.Err())
			return nil
		}
		b, err := cl.body()
		if err != nil {
			return err
		}
		fn(id, b, nil)
		return nil
	})
}

// UidlEach asks the unique id of each message of ids (UIDL n), handing
// each to fn in order, like TopEach: for the last messages of a maildrop
// too large to list whole.
func (cl *Client) UidlEach(ids []int, fn func(m MessageInfo, err error)) error {
	return cl.each(ids, func(id int) string { return "UIDL " + strconv.Itoa(id) }, func(id int) error {
		st, err := cl.status()
		if err != nil {
			return err
		}
		if !st.OK {
			fn(MessageInfo{ID: id}, st.Err())
			return nil
		}
		m, err := parseUID(st.Text, id)
		if err != nil {
			return err
		}
		fn(m, nil)
		return nil
	})
}

// Dele marks message id as deleted; the server removes it at QUIT.
func (cl *Client) Dele(id int) error {
	_, err := cl.ok("DELE " + strconv.Itoa(id))
	return err
}

func atoi(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err == nil && n < 0 {
		err = strconv.ErrRange
	}
	return n, err
}

func atoi64(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err == nil && n < 0 {
		err = strconv.ErrRange
	}
	return n, err
}
