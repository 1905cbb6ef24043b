package plugin

import (
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/probe"
)

// TestSMTPLegOAuthFlags: --smtp-oauth-* give a round trip's SMTP leg a
// token source of its own (XOAUTH2, the mailbox's user, the provider's
// submission server on 587 with STARTTLS), the client secret read from
// the environment; without them an XOAUTH2 leg shares the mailbox's; on
// a check that is not a round trip they are refused.
func TestSMTPLegOAuthFlags(t *testing.T) {
	env := Env{Getenv: func(k string) string {
		return map[string]string{"IMAP_SECRET": "imap-secret", "SMTP_SECRET": "smtp-secret", "MAILMON_SECRET": "0123456789abcdef0123456789abcdef"}[k]
	}}
	parse := func(typ string, args ...string) (*probe.Config, error) {
		t.Helper()
		var f flags
		fs := newFlagSet(&f)
		opts := f.register(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		f.given(fs, opts)
		f.lower()
		kind, _ := lookup(typ)
		cfg, err := f.config(kind, env)
		return &cfg, err
	}
	mailbox := []string{"-U", "probe@example.com", "--oauth-provider", "google", "--oauth-client-id", "imap-app", "--oauth-client-secret-env", "IMAP_SECRET"}
	cfg, err := parse("imap-roundtrip", append(mailbox, "--smtp-oauth-provider", "google", "--smtp-oauth-client-id", "smtp-app",
		"--smtp-oauth-client-secret-env", "SMTP_SECRET", "--smtp-oauth-scope", "https://mail.google.com/ smtp")...)
	if err != nil {
		t.Fatal(err)
	}
	leg := cfg.SMTP
	lf := leg.OAuthToken.Flow
	if lf == nil || lf == cfg.OAuthToken.Flow || lf.ClientID != "smtp-app" || lf.ClientSecret != "smtp-secret" ||
		strings.Join(lf.Scopes, " ") != "https://mail.google.com/ smtp" || lf.TokenURL != "https://oauth2.googleapis.com/token" {
		t.Fatalf("the leg's flow %+v", lf)
	}
	if leg.Host != "smtp.gmail.com" || leg.Port != 587 || leg.TLS != "starttls" || leg.Auth != "XOAUTH2" || leg.User != "probe@example.com" {
		t.Errorf("the leg %+v", leg)
	}
	cfg, err = parse("imap-roundtrip", append(mailbox, "--smtp-auth", "XOAUTH2")...)
	if err != nil || cfg.SMTP.OAuthToken.Flow != cfg.OAuthToken.Flow {
		t.Errorf("without --smtp-oauth-*: %v %+v", err, cfg.SMTP)
	}
	if _, err := parse("imap", append(mailbox, "--smtp-oauth-client-id", "x")...); err == nil || !strings.Contains(err.Error(), "--smtp-oauth-* are for round trips") {
		t.Errorf("on imap: %v", err)
	}
	if _, err := parse("imap-roundtrip", append(mailbox, "--smtp-oauth-provider", "microsoft", "--smtp-oauth-client-id", "x")...); err == nil ||
		!strings.HasPrefix(err.Error(), "--smtp-oauth-provider: microsoft needs the tenant") {
		t.Errorf("a bad leg provider: %v", err)
	}
}
