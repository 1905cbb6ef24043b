package alert

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// An alert about an outage carries a signed one-click link that
// acknowledges it, EXTERNAL_URL/ack/TOKEN: whoever received the alert
// may acknowledge that outage of that monitor, and nothing else, with no
// login. The token is an HMAC, under a key derived from the
// installation's key for this purpose alone, over the monitor, the start
// of the outage (what tells it from a later one), the alert action whose
// recipient got it, and when the link expires.

// AckLinkText is what an alert calls its acknowledgement link.
const AckLinkText = "Acknowledge in mailmon"

// DefaultAckLinkTTL is how long an acknowledgement link works.
const DefaultAckLinkTTL = 7 * 24 * time.Hour

// ackLinkInfo names the derived key's purpose: a key of another purpose
// derived from the same installation key signs nothing of this one's.
const ackLinkInfo = "mailmon ack link v1"

// AckGrant is what a link allows: acknowledging monitor Monitor's outage
// that began at Since, sent to alert action Alert's recipients, until
// Expires.
type AckGrant struct {
	Monitor int64
	Since   time.Time
	Alert   int64
	Expires time.Time
}

// AckLinks signs and checks acknowledgement links.
type AckLinks struct {
	base string
	key  []byte
	ttl  time.Duration
}

// NewAckLinks makes the links under base (the external URL, no trailing
// slash), signed with a key derived from installation, valid for ttl
// (DefaultAckLinkTTL when 0).
func NewAckLinks(base string, installation []byte, ttl time.Duration) (*AckLinks, error) {
	key, err := hkdf.Key(sha256.New, installation, nil, ackLinkInfo, 32)
	if err != nil {
		return nil, err
	}
	if ttl <= 0 {
		ttl = DefaultAckLinkTTL
	}
	return &AckLinks{base: strings.TrimSuffix(base, "/"), key: key, ttl: ttl}, nil
}

// TTL is how long a link works.
func (l *AckLinks) TTL() time.Duration { return l.ttl }

// URL is the link of monitor's outage that began at since, for alert
// action alert's recipients, made at now.
func (l *AckLinks) URL(monitor int64, since time.Time, alert int64, now time.Time) string {
	return l.base + "/ack/" + l.Token(AckGrant{Monitor: monitor, Since: since, Alert: alert, Expires: now.Add(l.ttl)})
}

// Token is g signed: MONITOR.SINCE_MS.ALERT.EXPIRES_UNIX.MAC, where MAC is
// the base64url HMAC-SHA256 of what precedes it.
func (l *AckLinks) Token(g AckGrant) string {
	msg := strconv.FormatInt(g.Monitor, 10) + "." + strconv.FormatInt(g.Since.UnixMilli(), 10) + "." +
		strconv.FormatInt(g.Alert, 10) + "." + strconv.FormatInt(g.Expires.Unix(), 10)
	return msg + "." + base64.RawURLEncoding.EncodeToString(l.mac(msg))
}

func (l *AckLinks) mac(msg string) []byte {
	h := hmac.New(sha256.New, l.key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// Errors of Check.
var (
	ErrAckLinkInvalid = errors.New("this acknowledgement link is not valid: it may have been cut short or changed; open the monitor in mailmon instead")
	ErrAckLinkExpired = errors.New("this acknowledgement link has expired; open the monitor in mailmon instead")
)

// Check reads a token: the grant it signs, if its signature holds and it
// has not expired at now.
func (l *AckLinks) Check(token string, now time.Time) (AckGrant, error) {
	if len(token) > 200 {
		return AckGrant{}, ErrAckLinkInvalid
	}
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return AckGrant{}, ErrAckLinkInvalid
	}
	msg, sig := token[:i], token[i+1:]
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(mac, l.mac(msg)) {
		return AckGrant{}, ErrAckLinkInvalid
	}
	f := strings.Split(msg, ".")
	if len(f) != 4 {
		return AckGrant{}, ErrAckLinkInvalid
	}
	var n [4]int64
	for k, s := range f {
		if n[k], err = strconv.ParseInt(s, 10, 64); err != nil {
			return AckGrant{}, ErrAckLinkInvalid
		}
	}
	g := AckGrant{Monitor: n[0], Since: time.UnixMilli(n[1]).UTC(), Alert: n[2], Expires: time.Unix(n[3], 0).UTC()}
	if !now.Before(g.Expires) {
		return g, ErrAckLinkExpired
	}
	return g, nil
}
