package imapprobe

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakeimap"
)

const (
	user     = "probe@example.com"
	password = "Pa55-w0rd-s3cret"
	token    = "ya29.token-s3cret-value"
)

var messages = []string{
	"From: a@example.com\r\nTo: probe@example.com\r\nSubject: one\r\n\r\nfirst\r\n",
	"From: b@example.com\r\nTo: probe@example.com\r\nSubject: two\r\n\r\nsecond\r\n",
}

func testUser() fakeimap.User {
	return fakeimap.User{Name: user, Password: password, Token: token, Mail: map[string][]string{
		"INBOX": messages,
		"Junk":  messages[:1],
	}}
}

// tlsEnv is a test CA and its file for the probe's config.
type tlsEnv struct {
	ca     *certs.CA
	caFile string
}

func newTLS(t *testing.T) *tlsEnv {
	t.Helper()
	ca := certs.NewCA(t)
	return &tlsEnv{ca: ca, caFile: ca.File(t)}
}

// server is a server configuration with a valid certificate for
// 127.0.0.1, ::1 and localhost.
func (e *tlsEnv) server(t *testing.T) *tls.Config {
	return certs.ServerConfig(e.ca.Issue(t, certs.Leaf{}))
}

// config is the probe config for a fake server.
func config(s *fakeimap.Server, mode probe.TLSMode) probe.Config {
	return probe.Config{Type: "imap", Host: s.Host, Port: s.Port, TLS: mode, Timeout: 5 * time.Second}
}

func run(t *testing.T, cfg probe.Config) *probe.Result {
	t.Helper()
	r := probe.Run(context.Background(), Kind(), cfg)
	checkResult(t, r, string(cfg.Password))
	return r
}

// checkResult: whatever happened, no secret is in the result, in any form,
// and what the server said is stored as valid UTF-8 without NUL.
func checkResult(t *testing.T, r *probe.Result, more ...string) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	js := string(b)
	secrets := []string{password, token}
	for _, m := range more {
		if m != "" {
			secrets = append(secrets, m)
		}
	}
	enc := base64.StdEncoding.EncodeToString
	for _, s := range secrets {
		for _, form := range []string{s, enc([]byte(s)), enc([]byte("\x00" + user + "\x00" + s))} {
			if strings.Contains(js, form) {
				t.Errorf("result holds a secret (%q):\n%s", form, js)
			}
		}
	}
	// Any base64 in the result must not decode to something holding a
	// secret (a SASL message with the token among other fields).
	words := strings.FieldsFunc(js, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '+' || r == '/' || r == '=')
	})
	for _, w := range words {
		dec, err := base64.StdEncoding.DecodeString(w)
		if err != nil {
			continue
		}
		for _, s := range secrets {
			if strings.Contains(string(dec), s) {
				t.Errorf("result holds a secret in base64 %q", w)
			}
		}
	}
	var texts []string
	texts = append(texts, r.Transcript...)
	if r.Error != nil {
		texts = append(texts, r.Error.Detail, r.Error.Reply)
	}
	for _, s := range texts {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Errorf("stored text %q is not clean UTF-8", s)
		}
	}
}

func phases(r *probe.Result) []string {
	var out []string
	for _, p := range r.Phases {
		out = append(out, p.Name)
	}
	return out
}

func wantUp(t *testing.T, r *probe.Result) {
	t.Helper()
	if r.Status != probe.StatusUp || r.Error != nil {
		t.Fatalf("status %s, error %+v\ntranscript:\n%s", r.Status, r.Error, strings.Join(r.Transcript, "\n"))
	}
}

func wantCode(t *testing.T, r *probe.Result, code probe.Code) {
	t.Helper()
	if r.Status != probe.StatusDown || r.Error == nil || r.Error.Code != code {
		t.Fatalf("status %s, error %+v; want %s\ntranscript:\n%s", r.Status, r.Error, code, strings.Join(r.Transcript, "\n"))
	}
}

func wantPhases(t *testing.T, r *probe.Result, want ...string) {
	t.Helper()
	if got := phases(r); !slices.Equal(got, want) {
		t.Errorf("phases %v, want %v", got, want)
	}
}

func transcriptHas(t *testing.T, r *probe.Result, line string) {
	t.Helper()
	if !slices.Contains(r.Transcript, line) {
		t.Errorf("transcript lacks %q:\n%s", line, strings.Join(r.Transcript, "\n"))
	}
}
