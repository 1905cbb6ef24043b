package config

import (
	"strings"
	"testing"
)

// TestSMTPLegOwnOAuth: the SMTP leg's own oauth block (another app and
// scope than the mailbox's, as Gmail's SMTP or Microsoft's SMTP.SendAsApp
// may need) gives the leg a token source of its own, with XOAUTH2, the
// provider's submission server and the mailbox's user filled in; its
// secret is exported by reference, never as a value; its problems are
// named under smtp.oauth.
func TestSMTPLegOwnOAuth(t *testing.T) {
	y := `devices:
  - name: gw
    address: imap.gmail.com
    monitors:
      - name: loop
        type: imap-roundtrip
        user: probe@example.com
        oauth:
          provider: google
          client_id: imap-app
          client_secret: {env: IMAP_SECRET}
        smtp:
          oauth:
            provider: google
            client_id: smtp-app
            client_secret: {env: SMTP_SECRET}
            scope: https://mail.google.com/ smtp
`
	f, err := Parse("m.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	m := f.Devices[0].Monitors[0]
	cfg := m.ProbeConfig("imap.gmail.com")
	leg := cfg.SMTP
	if leg == nil || leg.OAuthToken.Flow == nil || leg.OAuthToken.Flow == cfg.OAuthToken.Flow {
		t.Fatalf("leg %+v: no token source of its own", leg)
	}
	if lf := leg.OAuthToken.Flow; lf.ClientID != "smtp-app" || strings.Join(lf.Scopes, " ") != "https://mail.google.com/ smtp" ||
		lf.TokenURL != "https://oauth2.googleapis.com/token" {
		t.Errorf("the leg's flow %+v", lf)
	}
	if leg.Host != "smtp.gmail.com" || leg.Port != 587 || leg.TLS != "starttls" || leg.Auth != "XOAUTH2" || leg.User != "probe@example.com" {
		t.Errorf("the leg's defaults: %+v", leg)
	}
	out, err := Marshal(f)
	if err != nil || !strings.Contains(string(out), "client_secret: {env: SMTP_SECRET}") || !strings.Contains(string(out), "client_id: smtp-app") {
		t.Errorf("export (%v):\n%s", err, out)
	}

	// Without a block of its own, an XOAUTH2 leg with no user shares the
	// monitor's token (today's behaviour).
	y2 := strings.Replace(y, "          oauth:\n            provider: google\n            client_id: smtp-app\n            client_secret: {env: SMTP_SECRET}\n            scope: https://mail.google.com/ smtp\n",
		"          host: smtp.gmail.com\n          port: 587\n          tls: starttls\n          auth: XOAUTH2\n", 1)
	f, err = Parse("m.yaml", []byte(y2))
	if err != nil {
		t.Fatal(err)
	}
	cfg = f.Devices[0].Monitors[0].ProbeConfig("imap.gmail.com")
	if cfg.SMTP.OAuthToken.Flow != cfg.OAuthToken.Flow || cfg.SMTP.User != "probe@example.com" {
		t.Errorf("a leg without its own block: %+v", cfg.SMTP)
	}

	bad := strings.Replace(y, "            provider: google\n            client_id: smtp-app\n", "            provider: microsoft\n", 1)
	_, err = Parse("m.yaml", []byte(bad))
	if err == nil || !strings.Contains(err.Error(), "devices[0].monitors[0].smtp.oauth.tenant: microsoft needs the tenant") {
		t.Errorf("a bad leg block: %v", err)
	}
}
