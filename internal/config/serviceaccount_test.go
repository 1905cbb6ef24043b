package config

import (
	"strings"
	"testing"
)

// TestGoogleServiceAccount: a Workspace monitor with a service account
// needs the key and, at most, the subject (default: the user): no client
// id or secret; the key is a secret (exported by reference only); giving
// a client secret too is named as the conflict.
func TestGoogleServiceAccount(t *testing.T) {
	y := `devices:
  - name: workspace
    address: imap.gmail.com
    monitors:
      - name: login
        type: imap
        user: probe@example.com
        auth: XOAUTH2
        oauth:
          provider: google
          service_account_key: {file: /etc/mailmon/sa.json}
`
	f, err := Parse("m.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	m := f.Devices[0].Monitors[0]
	if m.OAuth.ServiceAccountKey.File != "/etc/mailmon/sa.json" || !m.OAuth.ServiceAccount() {
		t.Errorf("key %+v", m.OAuth.ServiceAccountKey)
	}
	fl := m.ProbeConfig("imap.gmail.com").OAuthToken.Flow
	if fl.Subject != "probe@example.com" || strings.Join(fl.Scopes, " ") != "https://mail.google.com/" {
		t.Errorf("flow %+v", fl)
	}
	out, err := Marshal(f)
	if err != nil || !strings.Contains(string(out), "service_account_key: {file: /etc/mailmon/sa.json}") {
		t.Errorf("export (%v):\n%s", err, out)
	}
	withSubject := strings.Replace(y, "          service_account_key:", "          subject: other@example.com\n          service_account_key:", 1)
	if f, err := Parse("m.yaml", []byte(withSubject)); err != nil || f.Devices[0].Monitors[0].ProbeConfig("h").OAuthToken.Flow.Subject != "other@example.com" {
		t.Errorf("subject given: %v", err)
	}
	both := strings.Replace(y, "          service_account_key:", "          client_secret: s\n          service_account_key:", 1)
	if _, err := Parse("m.yaml", []byte(both)); err == nil || !strings.Contains(err.Error(), "oauth.service_account_key: takes the place of client_secret") {
		t.Errorf("a key and a client secret: %v", err)
	}
}
