// Package nosecret checks that text holds no secret of a test in any form a
// leak could take, as an oracle independent of the redactor.
package nosecret

import (
	"encoding/base64"
	"strings"
	"testing"
)

// Forms returns each secret with what a test makes of it and a server
// could echo: the value; escaped in an IMAP quoted string; the base64 (both
// alphabets, padded or not) of itself and of the SASL payloads that carry
// it for user (PLAIN, XOAUTH2); and its base64 at each byte alignment, the
// characters that depend on its bytes alone, which any base64 blob holding
// it contains.
func Forms(user string, secrets ...string) []string {
	encs := []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding}
	var out []string
	for _, s := range secrets {
		out = append(out, s, strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s))
		for _, p := range []string{s, "\x00" + user + "\x00" + s, "user=" + user + "\x01auth=Bearer " + s + "\x01\x01"} {
			for _, e := range encs {
				out = append(out, e.EncodeToString([]byte(p)))
			}
		}
		for k := range 3 {
			out = append(out, Core(base64.StdEncoding, make([]byte, k), []byte(s)), Core(base64.URLEncoding, make([]byte, k), []byte(s)))
		}
	}
	return out
}

// Core is the part of the base64 of before+secret+(anything) that depends
// on secret alone: the characters whose six bits all fall within it.
func Core(enc *base64.Encoding, before, secret []byte) string {
	blob := enc.EncodeToString(append(append([]byte(nil), before...), secret...))
	from, to := 8*len(before), 8*(len(before)+len(secret))
	var b strings.Builder
	for i := range blob {
		if 6*i >= from && 6*i+6 <= to {
			b.WriteByte(blob[i])
		}
	}
	return b.String()
}

// Check fails t when text holds any of forms (those of three bytes or
// more); where says what text is.
func Check(t testing.TB, where, text string, forms []string) {
	t.Helper()
	for _, f := range forms {
		if len(f) >= 3 && strings.Contains(text, f) {
			t.Errorf("%s holds the secret form %q:\n%s", where, f, text)
			return
		}
	}
}

// EachPolicy runs fn as a subtest for each way of logging in (auth) with
// allow_plaintext_auth off ("… kept back") and on ("… allowed"): the auth
// policy's cases on a connection whose STARTTLS was stripped.
func EachPolicy(t *testing.T, auths []string, fn func(t *testing.T, auth string, allow bool)) {
	t.Helper()
	for _, auth := range auths {
		for _, allow := range []bool{false, true} {
			name := auth + " kept back"
			if allow {
				name = auth + " allowed"
			}
			t.Run(name, func(t *testing.T) { fn(t, auth, allow) })
		}
	}
}

// KeptBack fails t unless detail says why the credentials were kept back
// and what to set to send them.
func KeptBack(t testing.TB, detail string) {
	t.Helper()
	for _, want := range []string{"did not offer STARTTLS", "kept back", "allow_plaintext_auth"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the detail %q does not say %q", detail, want)
		}
	}
}
