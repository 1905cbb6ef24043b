package wire

import (
	"encoding/base64"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Secrets is the one redactor of a test: it knows every secret the test
// holds (passwords, tokens) and every encoding the test itself produced from
// them (SASL payloads, digests), and Redact takes all of them out of any
// text that leaves the test: transcript lines, error details, server
// replies, details. A Secrets is safe for concurrent use; the nil *Secrets
// knows no secret.
type Secrets struct {
	mu      sync.RWMutex
	needles []string
	known   map[string]bool
}

// MinSecret is the length under which a value is not registered: a shorter
// needle would cut innocent text to pieces (and a password that short is
// found by guessing anyway).
const MinSecret = 3

// Add registers a secret (a password, a token) and the forms in which it can
// show in text without the test having sent it that way: the value itself,
// as a server would echo it; escaped as in an IMAP quoted string or a Go %q
// (error messages quote server text); and base64 at each of the three byte
// alignments, trimmed of the characters that depend on neighbouring bytes,
// so that the secret is found inside any base64 blob whatever surrounds it
// (a SASL PLAIN or XOAUTH2 payload echoed by a server).
func (s *Secrets) Add(secret string) {
	if s == nil || len(secret) < MinSecret {
		return
	}
	forms := []string{secret, imapQuoted(secret)}
	if q := strconv.Quote(secret); len(q) >= 2 {
		forms = append(forms, q[1:len(q)-1])
	}
	for k := range 3 {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			forms = append(forms, base64Core(enc, secret, k))
		}
	}
	s.add(forms...)
}

// AddPayload registers what a SASL exchange sent (an initial response, the
// answer to a challenge) in every base64 form a server could echo it in:
// standard and URL alphabets, with and without padding.
func (s *Secrets) AddPayload(p []byte) {
	if s == nil || len(p) < MinSecret {
		return
	}
	s.add(base64.StdEncoding.EncodeToString(p), base64.RawStdEncoding.EncodeToString(p),
		base64.URLEncoding.EncodeToString(p), base64.RawURLEncoding.EncodeToString(p))
}

// AddEncoded registers a value derived from a secret that is sent as it is
// (an APOP or CRAM-MD5 digest: with its challenge it is an offline attack on
// the password).
func (s *Secrets) AddEncoded(v string) {
	if s == nil || len(v) < MinSecret {
		return
	}
	s.add(v)
}

func (s *Secrets) add(forms ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.known == nil {
		s.known = make(map[string]bool)
	}
	for _, f := range forms {
		f = Sanitize(f) // text is sanitized before it is searched
		if len(f) >= MinSecret && !s.known[f] {
			s.known[f] = true
			s.needles = append(s.needles, f)
		}
	}
}

// Needles returns every form registered so far (for tests).
func (s *Secrets) Needles() []string {
	if s == nil {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]string(nil), s.needles...)
}

// imapQuoted is secret as the inside of an IMAP quoted string.
func imapQuoted(secret string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(secret)
}

// base64Core is the base64 of secret placed k bytes (0, 1 or 2) into a
// stream, without the characters that also carry bits of the bytes around
// it: what any encoding of a longer string holding secret at that alignment
// contains.
func base64Core(enc *base64.Encoding, secret string, k int) string {
	full := enc.EncodeToString(append(make([]byte, k, k+len(secret)), secret...))
	first := (8*k + 5) / 6            // the first character with no bit of the k bytes before
	last := (8*(k+len(secret)))/6 - 1 // the last character with no bit of what follows
	if last < first {
		return ""
	}
	return full[first : last+1]
}

// Redact makes text safe to show: Sanitize, then every registered form of a
// secret replaced by Redacted, as is the start of one cut off by Truncate
// (a prefix of at least MinSecret bytes right before its "…"). Replacing can
// join what surrounds a secret into another one, so this repeats until
// nothing is left but text between markers that holds no secret. Text
// without secrets comes back as Sanitize makes it.
func (s *Secrets) Redact(text string) string {
	text = Sanitize(text)
	if s == nil {
		return text
	}
	s.mu.RLock()
	needles := s.needles
	s.mu.RUnlock()
	if len(needles) == 0 {
		return text
	}
	for range len(text) + 1 { // each round that changes text removes some of it
		out, changed := redactOnce(text, needles)
		if !changed {
			return out
		}
		text = out
	}
	return text
}

const ellipsis = "…"

// redactOnce covers every occurrence of a needle (overlapping ones too) that
// is not wholly inside a marker already in text, and every truncated prefix
// of one, widened over any marker it touches, and writes each covered run
// as one marker. It takes time linear in the text for each needle.
func redactOnce(text string, needles []string) (string, bool) {
	var markers [][2]int // sorted, disjoint: a marker cannot overlap itself
	for i := 0; ; {
		j := strings.Index(text[i:], Redacted)
		if j < 0 {
			break
		}
		markers = append(markers, [2]int{i + j, i + j + len(Redacted)})
		i += j + len(Redacted)
	}
	var delta []int // +1 where a covered range starts, -1 past its end
	mark := func(from, to int) {
		// the first marker that ends after from
		k := sort.Search(len(markers), func(i int) bool { return markers[i][1] > from })
		if k < len(markers) && markers[k][0] <= from && to <= markers[k][1] {
			return // a marker's own letters
		}
		for ; k < len(markers) && markers[k][0] < to; k++ {
			from, to = min(from, markers[k][0]), max(to, markers[k][1])
		}
		if delta == nil {
			delta = make([]int, len(text)+1)
		}
		delta[from]++
		delta[to]--
	}
	cuts := strings.Contains(text, ellipsis)
	for _, n := range needles {
		for i := 0; ; {
			j := strings.Index(text[i:], n)
			if j < 0 {
				break
			}
			mark(i+j, i+j+len(n))
			i += j + 1
		}
		if cuts {
			markCut(text, n, mark)
		}
	}
	if delta == nil {
		return text, false
	}
	covered := make([]bool, len(text))
	for i, depth := 0, 0; i < len(text); i++ {
		depth += delta[i]
		covered[i] = depth > 0
	}
	var b strings.Builder
	b.Grow(len(text))
	changed := false
	for i := 0; i < len(text); {
		if !covered[i] {
			b.WriteByte(text[i])
			i++
			continue
		}
		j := i
		for j < len(text) && covered[j] {
			j++
		}
		if text[i:j] != Redacted {
			changed = true
		}
		b.WriteString(Redacted)
		i = j
	}
	return b.String(), changed
}

// markCut marks, before each "…" in text, the longest prefix of needle n
// (at least MinSecret bytes) that text ends with there: a secret cut off by
// Truncate. It runs Knuth-Morris-Pratt's automaton of n over text once.
func markCut(text, n string, mark func(from, to int)) {
	fail := make([]int, len(n)) // fail[i]: the longest proper border of n[:i+1]
	for i, k := 1, 0; i < len(n); i++ {
		for k > 0 && n[i] != n[k] {
			k = fail[k-1]
		}
		if n[i] == n[k] {
			k++
		}
		fail[i] = k
	}
	m := 0 // the longest suffix of text[:i] that is a prefix of n
	for i := 0; i < len(text); i++ {
		if m >= MinSecret && strings.HasPrefix(text[i:], ellipsis) {
			mark(i-m, i)
		}
		if m == len(n) {
			m = fail[m-1]
		}
		for m > 0 && text[i] != n[m] {
			m = fail[m-1]
		}
		if text[i] == n[m] {
			m++
		}
	}
}

// Error returns err with a redacted message, for errors that leave a test
// other than in its Result (an alert relay's refusal). errors.Is and As
// still see err.
func (s *Secrets) Error(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: s.Redact(OneLine(err.Error())), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// OneLine joins the lines of an error message (errors.Join puts a newline
// between errors) with "; ", so that they read as one line rather than as a
// U+FFFD once sanitized.
func OneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
}
