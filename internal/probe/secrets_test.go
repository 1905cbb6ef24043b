package probe

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/sasl"
	"github.com/mailmon/mailmon/internal/wire"
)

func TestAuthPolicy(t *testing.T) {
	for _, e := range []sasl.Exposure{sasl.RevealsSecret, sasl.RevealsDigest} {
		for _, enc := range []bool{false, true} {
			for _, allow := range []bool{false, true} {
				if _, ok := policy(authRule{e, enc, allow}); !ok {
					t.Errorf("no rule for exposure %d, encrypted %v, allow_plaintext_auth %v", e, enc, allow)
				}
			}
		}
	}
	// Every way of logging in, with each of the policy's answers.
	for _, mech := range []string{"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER", "USER", "APOP", ""} {
		for _, tc := range []struct {
			encrypted, allow, sent bool
		}{{true, false, true}, {true, true, true}, {false, true, true}, {false, false, false}} {
			cfg := Config{TLS: TLSOptional, AllowPlaintextAuth: tc.allow}
			err := cfg.PermitAuth(tc.encrypted, mech)
			if (err == nil) != tc.sent {
				t.Errorf("%q, encrypted %v, allow %v: %v", mech, tc.encrypted, tc.allow, err)
				continue
			}
			if err == nil {
				continue
			}
			if Classify(err) != TLSUnavailable {
				t.Errorf("%q refused as %s, want tls_unavailable", mech, Classify(err))
			}
			msg := err.Error()
			for _, want := range []string{"did not offer STARTTLS", "kept back", "set allow_plaintext_auth"} {
				if !strings.Contains(msg, want) {
					t.Errorf("%q: the refusal %q does not say %q", mech, msg, want)
				}
			}
		}
	}
}

// TestResultRedacted: whatever a prober records, the Result leaving
// Trace.Result holds none of the test's secrets, in any field.
func TestResultRedacted(t *testing.T) {
	const (
		pw    = "correct-horse-battery"
		legPW = "smtp-leg-s3cret"
		tok   = "ya29.late-registered-token"
		dqs   = "dqsKey0123abc"
	)
	plain := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00" + pw))
	prober := func(ctx context.Context, cfg *Config, t *Trace) error {
		t.Transcript.Server("220 greeting that guesses " + tok) // before the token is known
		t.Detail("greeting", "220 hello "+pw)
		t.Detail("capabilities", []string{"X-" + legPW})
		t.Detail("authentication_results", map[string]string{"spf": pw})
		t.Transcript.Note("query 2.0.0.127." + dqs + ".zen.dq.spamhaus.net")
		t.Detail("listed_on", []string{dqs + ".zen.dq.spamhaus.net"})
		t.Detail("smtp", map[string]any{"tls": &TLSInfo{CertSubject: "CN=" + legPW, CertNames: []string{legPW}}, "n": 3})
		t.Transcript.Server("500 unrecognized: AUTH PLAIN " + plain)
		t.Transcript.AddSecret(tok)
		return &StepError{Phase: "auth", Code: AuthFailed, Reply: "535 bad password " + pw,
			Err: errors.Join(errors.New("first"), fmt.Errorf("second %s", legPW))}
	}
	cfg := Config{Type: "smtp", Host: "127.0.0.1", Port: 25, TLS: TLSStartTLS, User: "alice", Password: pw,
		Timeout: time.Second, SMTP: &Config{Password: legPW}, DQSKey: dqs}
	r := Run(context.Background(), Kind{Name: "smtp", HasPort: true, KnowsTLS: true, LogsIn: true, Probe: prober}, cfg)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{pw, legPW, tok, plain, dqs} {
		if strings.Contains(string(b), s) {
			t.Errorf("%q in the result: %s", s, b)
		}
	}
	if r.Error == nil || r.Error.Detail != "first; second "+wire.Redacted {
		t.Errorf("detail %+v, want the joined errors on one line, redacted", r.Error)
	}
	if r.Details["smtp"].(map[string]any)["n"] != 3 {
		t.Errorf("a number in the details was changed: %v", r.Details)
	}
}

// TestRedactValueCopiesOnlyOnChange: a test's details are redacted without
// a copy when nothing in them is secret (nearly every test), and copied,
// never changed, when something is.
func TestRedactValueCopiesOnlyOnChange(t *testing.T) {
	info := &TLSInfo{CertSubject: "CN=mx.example", CertNames: []string{"mx.example"}}
	details := map[string]any{"greeting": "220 mx.example ESMTP", "extensions": []string{"PIPELINING", "SIZE 1000"},
		"size_limit": 1000, "smtp": map[string]any{"tls": info, "tls_mode": TLSStartTLS}, "list": []any{"a", 1}}
	s := &wire.Secrets{}
	s.Add("hunter2")
	if n := testing.AllocsPerRun(100, func() { redactValue(details, s) }); n != 0 {
		t.Errorf("redacting details with no secret in them allocated %v times, want none", n)
	}
	if got := redactValue(details, s).(map[string]any); fmt.Sprintf("%p", got) != fmt.Sprintf("%p", details) {
		t.Error("details with no secret in them were copied")
	}
	if got := info.redact(s); got != info {
		t.Error("a certificate with no secret in it was copied")
	}

	info.CertNames = []string{"mx.example", "hunter2.example"}
	details["list"] = []any{"a", "hunter2"}
	got := redactValue(details, s).(map[string]any)
	names := got["smtp"].(map[string]any)["tls"].(*TLSInfo).CertNames
	if names[1] != wire.Redacted+".example" || names[0] != "mx.example" {
		t.Errorf("certificate names %q, want the secret redacted", names)
	}
	if l := got["list"].([]any); l[0] != "a" || l[1] != wire.Redacted {
		t.Errorf("list %v, want the secret redacted", l)
	}
	if info.CertNames[1] != "hunter2.example" || details["list"].([]any)[1] != "hunter2" {
		t.Error("redaction changed the trace's own details instead of copying them")
	}
	if got["greeting"] != "220 mx.example ESMTP" || got["size_limit"] != 1000 {
		t.Errorf("unchanged values lost in the copy: %v", got)
	}
}
