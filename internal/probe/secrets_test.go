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
	)
	plain := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00" + pw))
	prober := func(ctx context.Context, cfg *Config, t *Trace) error {
		t.Transcript.Server("220 greeting that guesses " + tok) // before the token is known
		t.Detail("greeting", "220 hello "+pw)
		t.Detail("capabilities", []string{"X-" + legPW})
		t.Detail("authentication_results", map[string]string{"spf": pw})
		t.Detail("smtp", map[string]any{"tls": &TLSInfo{CertSubject: "CN=" + legPW, CertNames: []string{legPW}}, "n": 3})
		t.Transcript.Server("500 unrecognized: AUTH PLAIN " + plain)
		t.Transcript.AddSecret(tok)
		return &StepError{Phase: "auth", Code: AuthFailed, Reply: "535 bad password " + pw,
			Err: errors.Join(errors.New("first"), fmt.Errorf("second %s", legPW))}
	}
	cfg := Config{Type: "smtp", Host: "127.0.0.1", Port: 25, TLS: TLSStartTLS, User: "alice", Password: pw,
		Timeout: time.Second, SMTP: &Config{Password: legPW}}
	r := Run(context.Background(), Kind{Name: "smtp", HasPort: true, KnowsTLS: true, LogsIn: true, Probe: prober}, cfg)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{pw, legPW, tok, plain} {
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
