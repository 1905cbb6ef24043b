package probe

import (
	"bytes"
	"strings"

	"github.com/mailmon/mailmon/internal/sasl"
	"github.com/mailmon/mailmon/internal/wire"
)

// Secrets is the test's redactor. Everything that leaves a test passes
// through it: the transcript as it is recorded, and the whole Result as
// Trace.Result makes it (error detail, server reply, warnings, details,
// transcript again), so that the JSON and Nagios outputs, the store, the
// API, /metrics, alerts and logs, all made from a Result, hold no secret.
func (t *Trace) Secrets() *wire.Secrets { return t.Transcript.Secrets() }

// AddSecrets registers the secrets of cfg, the mailbox leg's password and a
// round trip's SMTP-leg password, before the test starts. An OAuth token is
// registered when it is fetched (Credentials), a SASL payload when it is
// made (SASL), an APOP digest when it is computed.
func (t *Trace) AddSecrets(cfg *Config) {
	s := t.Secrets()
	s.Add(string(cfg.Password))
	s.Add(string(cfg.DQSKey))
	if cfg.SMTP != nil {
		s.Add(string(cfg.SMTP.Password))
	}
}

// SASL returns the client side of mechanism mech. Each response it makes is
// registered with the test's secrets before it is sent, in its base64 forms
// (and a CRAM-MD5 digest as it is): a server that echoes a response finds
// it redacted.
func SASL(t *Trace, mech string, cr sasl.Credentials) (sasl.Client, error) {
	m, err := sasl.New(mech, cr)
	if err != nil {
		return nil, err
	}
	s := t.Secrets()
	cram := strings.EqualFold(mech, sasl.CRAMMD5)
	w := sasl.Watch(m, func(resp []byte) {
		s.AddPayload(resp)
		if i := bytes.LastIndexByte(resp, ' '); cram && i >= 0 {
			s.AddEncoded(string(resp[i+1:]))
		}
	})
	t.mu.Lock()
	t.sasl = w
	t.mu.Unlock()
	return w, nil
}

// OAuthRefusal is a failed XOAUTH2 or OAUTHBEARER login with the error
// challenge the server sent (RFC 7628), decoded: auth_failed still, with
// what the server said of the token.
type OAuthRefusal struct {
	Err       error
	Challenge sasl.OAuthChallenge
}

func (e *OAuthRefusal) Error() string {
	return e.Err.Error() + "; the server's OAuth error: " + e.Challenge.String()
}
func (e *OAuthRefusal) Unwrap() error { return e.Err }

// withOAuthFailure adds the error challenge of the trace's last SASL
// client, if it got one, to a failed login.
func (t *Trace) withOAuthFailure(err error) error {
	t.mu.Lock()
	c := t.sasl
	t.mu.Unlock()
	if c == nil {
		return err
	}
	if ch, ok := sasl.OAuthFailure(c); ok {
		t.Detail("oauth_error", ch.String())
		return &OAuthRefusal{Err: err, Challenge: ch}
	}
	return err
}

// redact passes every text of r through s. Values of Details are the plain
// data Trace.Detail takes: strings, string slices and maps, nested maps of
// a leg's facts, TLS facts; numbers and booleans hold no text.
func (r *Result) redact(s *wire.Secrets) {
	if e := r.Error; e != nil {
		e.Detail = s.Redact(wire.OneLine(e.Detail))
		e.Reply = s.Redact(e.Reply)
	}
	for i, w := range r.Warnings {
		r.Warnings[i] = s.Redact(w)
	}
	if r.TLS != nil {
		r.TLS = r.TLS.redact(s)
	}
	if r.Details != nil {
		r.Details = redactValue(r.Details, s).(map[string]any)
	}
	for i, l := range r.Transcript {
		r.Transcript[i] = s.Redact(l)
	}
}

// redactValue returns v with its text redacted. A container is copied
// when something in it changes, never changed, since the trace may still
// hold it; when nothing changes, as in nearly every test, v itself comes
// back and nothing is allocated (the copies were 5 of a banner test's ~100
// allocations).
func redactValue(v any, s *wire.Secrets) any {
	out, _ := redacted(v, s)
	return out
}

// redacted is redactValue, and whether anything changed.
func redacted(v any, s *wire.Secrets) (any, bool) {
	switch x := v.(type) {
	case string:
		if r := s.Redact(x); r != x {
			return r, true
		}
	case []string:
		if out, changed := redactStrings(x, s); changed {
			return out, true
		}
	case []any:
		for i, e := range x {
			r, changed := redacted(e, s)
			if !changed {
				continue
			}
			out := make([]any, len(x))
			copy(out, x[:i])
			out[i] = r
			for j := i + 1; j < len(x); j++ {
				out[j], _ = redacted(x[j], s)
			}
			return out, true
		}
	case map[string]string:
		if !anyChange(x, s, func(e string) bool { return s.Redact(e) != e }) {
			return v, false
		}
		out := make(map[string]string, len(x))
		for k, e := range x {
			out[s.Redact(k)] = s.Redact(e)
		}
		return out, true
	case map[string]any:
		if !anyChange(x, s, func(e any) bool { _, changed := redacted(e, s); return changed }) {
			return v, false
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[s.Redact(k)], _ = redacted(e, s)
		}
		return out, true
	case *TLSInfo:
		if r := x.redact(s); r != x {
			return r, true
		}
	}
	return v, false
}

// anyChange reports whether redaction changes a key of m or, as changes
// says, one of its values.
func anyChange[V any](m map[string]V, s *wire.Secrets, changes func(V) bool) bool {
	for k, e := range m {
		if s.Redact(k) != k || changes(e) {
			return true
		}
	}
	return false
}

// redactStrings is x redacted: x itself when nothing changes, else a copy.
func redactStrings(x []string, s *wire.Secrets) ([]string, bool) {
	for i, e := range x {
		if s.Redact(e) == e {
			continue
		}
		out := make([]string, len(x))
		copy(out, x[:i])
		for j := i; j < len(x); j++ {
			out[j] = s.Redact(x[j])
		}
		return out, true
	}
	return x, false
}

func (i *TLSInfo) redact(s *wire.Secrets) *TLSInfo {
	if i == nil {
		return nil
	}
	subject, issuer := s.Redact(i.CertSubject), s.Redact(i.CertIssuer)
	names, changed := redactStrings(i.CertNames, s)
	if !changed && subject == i.CertSubject && issuer == i.CertIssuer {
		return i // nothing to hide: no copy
	}
	c := *i
	c.CertSubject, c.CertIssuer, c.CertNames = subject, issuer, names
	return &c
}
