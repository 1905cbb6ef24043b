package roundtrip

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/mail/message"
)

// Header carries a probe's stamp:
// "v1 <installation> <nonce> <created-unix> <hmac-hex>". The installation
// id is public (derived from the secret, revealing nothing of it) so that a
// mailbox can be searched for this installation's probes alone; the HMAC
// covers all of it, so that the identity of a probe and its age (for the
// sweep of stale probes) are this installation's word, not anybody's.
const Header = "X-Mailmon-Probe"

const subjectPrefix = "mailmon probe "

// Probe is a probe message as sent.
type Probe struct {
	Nonce     string
	Created   time.Time
	Subject   string
	MessageID string
	Raw       []byte // CRLF line endings, ready for DATA
}

func mac(key keyfile.Key, inst, nonce string, created int64) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "mailmon-probe v1|%s|%s|%d", inst, nonce, created)
	return hex.EncodeToString(m.Sum(nil))
}

// InstallationID is the public name of the installation whose secret is
// key: what a search for its probes looks for.
func InstallationID(key keyfile.Key) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("mailmon installation id"))
	return hex.EncodeToString(m.Sum(nil))[:16]
}

// NewProbe makes a probe message for the named monitor.
func NewProbe(key keyfile.Key, monitor, from, to string, now time.Time) (*Probe, error) {
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	nonce := hex.EncodeToString(raw)
	created := now.Unix()
	if monitor == "" {
		monitor = "check"
	}
	p := &Probe{
		Nonce:   nonce,
		Created: time.Unix(created, 0),
		Subject: subjectPrefix + monitor + " " + nonce,
	}
	domain := "mailmon.invalid"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		domain = d
	}
	id := nonce + ".probe@" + domain
	p.MessageID = "<" + id + ">"
	inst := InstallationID(key)
	m := message.Message{From: from, To: []string{to}, Subject: p.Subject, Date: now, MessageID: id,
		Fields: []message.Field{{Name: Header, Value: fmt.Sprintf("v1 %s %s %d %s", inst, nonce, created, mac(key, inst, nonce, created))}},
		Body: fmt.Sprintf("This message was sent by mailmon, a mail monitoring tool, to test that mail\n"+
			"sent now reaches this mailbox (monitor %q).\n\n"+
			"It deletes the message itself once it has seen it. If you read this, the\n"+
			"monitor could not: it will remove it on a later run.\n", monitor)}
	p.Raw = m.Bytes()
	return p, nil
}

// Found is a verified probe of this installation seen in a mailbox.
type Found struct {
	Nonce   string
	Created time.Time
	// AuthHeaders are its Authentication-Results headers, top first (at
	// most maxAuthHeaders): ReadAuthResults finds the one that counts.
	AuthHeaders []string
}

// Errors of Inspect.
var (
	ErrNotProbe = errors.New("not a mailmon probe")
	ErrForged   = errors.New("probe stamp does not verify under this installation's secret")
)

// maxHeader bounds the header block Inspect reads.
const maxHeader = 256 << 10

// Inspect reads a message's header block (as TOP n 0 or BODY.PEEK[HEADER]
// return it) and returns the probe it is, if it is one of this
// installation's: the stamp's HMAC verifies and the subject names the same
// nonce. Anything else, another installation's probe, a look-alike subject,
// an ordinary message, is ErrNotProbe or ErrForged and must be left alone.
func Inspect(key keyfile.Key, header []byte) (*Found, error) {
	if len(header) > maxHeader {
		header = header[:maxHeader]
	}
	if !bytes.HasSuffix(header, []byte("\r\n\r\n")) && !bytes.HasSuffix(header, []byte("\n\n")) {
		header = append(bytes.TrimRight(header, "\r\n"), "\r\n\r\n"...)
	}
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(header))).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return nil, ErrNotProbe
	}
	stamp := h.Get(Header)
	if stamp == "" {
		return nil, ErrNotProbe
	}
	f := strings.Fields(stamp)
	if len(f) != 5 || f[0] != "v1" || len(f[2]) != 32 {
		return nil, ErrForged
	}
	inst, nonce := f[1], f[2]
	created, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil {
		return nil, ErrForged
	}
	want := mac(key, inst, nonce, created)
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(f[4]))) {
		return nil, ErrForged
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil {
		subject = h.Get("Subject")
	}
	if !strings.HasPrefix(subject, subjectPrefix) || !strings.HasSuffix(subject, " "+nonce) {
		return nil, ErrForged
	}
	auth := h.Values("Authentication-Results")
	return &Found{Nonce: nonce, Created: time.Unix(created, 0), AuthHeaders: auth[:min(len(auth), maxAuthHeaders)]}, nil
}
