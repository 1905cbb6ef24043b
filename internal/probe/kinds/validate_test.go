package kinds_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/wire"
)

// Moved from package probe with the type-specific checks: each type's
// validation is the common one and its kind's.

func TestValidateNamesFields(t *testing.T) {
	tests := []struct {
		name   string
		cfg    probe.Config
		fields []string
	}{
		{"empty", probe.Config{Type: "smtp"}, []string{"host"}},
		{"everything wrong", probe.Config{Type: "smtp", Host: "a b", Port: 99999, TLS: "ssl", WarnRTT: time.Minute, CertWarnDays: -5},
			[]string{"host", "port", "tls", "warn", "cert_warn_days"}},
		{"password without user", probe.Config{Type: "imap", Host: "h", Password: "x"}, []string{"user"}},
		{"user without password", probe.Config{Type: "imap", Host: "h", TLS: probe.TLSImplicit, User: "u"}, []string{"password"}},
		{"plaintext credentials", probe.Config{Type: "pop3", Host: "h", User: "u", Password: "p"}, []string{"allow_plaintext_auth"}},
		{"APOP with tls none", probe.Config{Type: "pop3", Host: "h", User: "u", Password: "p", Auth: "APOP"}, []string{"allow_plaintext_auth"}},
		{"CRAM-MD5 with tls none", probe.Config{Type: "smtp", Host: "h", User: "u", Password: "p", Auth: "cram-md5"}, []string{"allow_plaintext_auth"}},
		{"a token with tls none", probe.Config{Type: "imap", Host: "h", User: "u", OAuthToken: oauth.Source{File: "f"}}, []string{"allow_plaintext_auth"}},
		{"oauth without token", probe.Config{Type: "smtp", Host: "h", TLS: probe.TLSStartTLS, User: "u", Auth: "XOAUTH2"}, []string{"oauth_token"}},
		{"unknown mechanism", probe.Config{Type: "smtp", Host: "h", TLS: probe.TLSStartTLS, User: "u", Password: "p", Auth: "NTLM"}, []string{"auth"}},
		{"APOP on imap", probe.Config{Type: "imap", Host: "h", TLS: probe.TLSStartTLS, User: "u", Password: "p", Auth: "APOP"}, []string{"auth"}},
		{"mailbox on smtp", probe.Config{Type: "smtp", Host: "h", Mailbox: "INBOX"}, []string{"mailbox", "mailbox"}},
		{"stat without login", probe.Config{Type: "pop3", Host: "h", Stat: true}, []string{"stat"}},
		{"tcp without port", probe.Config{Type: "tcp", Host: "h"}, []string{"port"}},
		{"two token sources", probe.Config{Type: "imap", Host: "h", TLS: probe.TLSImplicit, User: "u", OAuthToken: oauth.Source{File: "f", Command: []string{"c"}}}, []string{"oauth_token"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := kinds.Validate(&tc.cfg)
			var ce *probe.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("want a ConfigError, got %v", err)
			}
			var got []string
			for _, f := range ce.Errs {
				got = append(got, f.Field)
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("fields %v, want %v (%v)", got, tc.fields, err)
			}
		})
	}
}

func TestValidateDefaults(t *testing.T) {
	c := probe.Config{Type: "imap", Host: "mail.example", TLS: probe.TLSImplicit}
	if err := kinds.Validate(&c); err != nil {
		t.Fatal(err)
	}
	if c.Port != 993 || c.Timeout != probe.DefaultTimeout || c.CertWarnDays != probe.DefaultCertWarnDays || c.Limits != wire.DefaultLimits() {
		t.Errorf("defaults not filled: %+v", c)
	}
	for _, tc := range []struct {
		typ  string
		mode probe.TLSMode
		port int
	}{{"smtp", probe.TLSNone, 25}, {"smtp", probe.TLSImplicit, 465}, {"pop3", probe.TLSStartTLS, 110}, {"pop3", probe.TLSImplicit, 995}, {"imap", probe.TLSOptional, 143}, {"tcp", probe.TLSNone, 0}} {
		if p := kinds.DefaultPort(tc.typ, tc.mode); p != tc.port {
			t.Errorf("DefaultPort(%s, %s) = %d, want %d", tc.typ, tc.mode, p, tc.port)
		}
	}
}
