package config

import (
	"strings"
	"testing"
)

// TestOAuthMicrosoftNeedsOnlyTenantClientAndSecret: a Microsoft 365 round
// trip needs tenant, client id, secret and mailbox; the preset fills the
// token URL, the scope, implicit TLS and the submission leg, which logs
// in with the same token source. The secret is never exported.
func TestOAuthMicrosoftNeedsOnlyTenantClientAndSecret(t *testing.T) {
	y := `devices:
  - name: m365
    address: outlook.office365.com
    monitors:
      - name: loop
        type: imap-roundtrip
        user: probe@contoso.com
        oauth:
          provider: microsoft
          tenant: contoso.onmicrosoft.com
          client_id: 11111111-2222-3333-4444-555555555555
          client_secret: {env: M365_SECRET}
`
	f, err := Parse("m.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	m := f.Devices[0].Monitors[0]
	if m.OAuth.ClientSecret.Env != "M365_SECRET" {
		t.Errorf("secret %+v", m.OAuth.ClientSecret)
	}
	cfg := m.ProbeConfig("outlook.office365.com")
	fl := cfg.OAuthToken.Flow
	if fl == nil || fl.TokenURL != "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token" ||
		strings.Join(fl.Scopes, " ") != "https://outlook.office365.com/.default" {
		t.Fatalf("flow %+v", fl)
	}
	if cfg.TLS != "implicit" || cfg.SMTP == nil || cfg.SMTP.Host != "smtp.office365.com" || cfg.SMTP.Port != 587 ||
		cfg.SMTP.User != "probe@contoso.com" || cfg.SMTP.OAuthToken.Flow != fl {
		t.Errorf("defaults: tls %s, smtp leg %+v", cfg.TLS, cfg.SMTP)
	}
	out, err := Marshal(f)
	if err != nil || strings.Contains(string(out), "M365_SECRET") || !strings.Contains(string(out), "client_id: 11111111") {
		t.Errorf("export (%v):\n%s", err, out)
	}
}

// TestOAuthProblemsNameTheField: what is missing or unsafe is named in
// the YAML's words.
func TestOAuthProblemsNameTheField(t *testing.T) {
	cases := map[string]string{
		"provider: microsoft\n          client_id: c\n          client_secret: s":                                           "oauth.tenant: microsoft needs the tenant",
		"provider: yahoo\n          client_id: c\n          client_secret: s":                                               "oauth.provider: \"yahoo\" is not one of microsoft, google",
		"token_url: http://login.example.com/token\n          scope: x\n          client_id: c\n          client_secret: s": "oauth.token_url: \"http://login.example.com/token\" would send the client secret unencrypted",
		"provider: google\n          client_secret: s":                                                                      "oauth.client_id: is required",
		"client_id: c\n          client_secret: s":                                                                          "oauth.token_url: is required without a provider",
		"provider: google\n          tenant: x\n          client_id: c\n          client_secret: s":                         "oauth.tenant: google has no tenant",
	}
	for block, want := range cases {
		y := "devices:\n  - name: d\n    address: h\n    monitors:\n      - name: m\n        type: imap\n        tls: implicit\n        user: u\n        oauth:\n          " + block + "\n"
		_, err := Parse("m.yaml", []byte(y))
		var got []string
		for _, e := range err.(Problems) {
			got = append(got, e.Field+": "+e.Msg)
		}
		if !strings.Contains(strings.Join(got, "\n"), "devices[0].monitors[0]."+want) || strings.Count(strings.Join(got, "\n"), "oauth.token_url") > 1 {
			t.Errorf("%q:\n got %q\nwant %q", block, got, want)
		}
	}
}
