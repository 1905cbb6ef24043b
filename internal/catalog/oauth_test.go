package catalog

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/vault"
)

const oauthYAML = `devices:
  - name: m365
    address: 127.0.0.1
    monitors:
      - name: loop
        type: imap
        tls: implicit
        user: probe@contoso.test
        oauth:
          token_url: https://127.0.0.1:8443/token
          scope: https://outlook.office365.com/.default
          client_id: c1
          client_secret: {env: CLIENT_SECRET}
          refresh_token: rt-first
`

// TestOAuthSecretsSealedRotatedAndBound: the oauth block's secrets are
// sealed under the monitor's record; a rotated refresh token replaces the
// stored one (what a restart reads); a login stores one; a change of the
// token URL over the network drops both unless sent again.
func TestOAuthSecretsSealedRotatedAndBound(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t)
	c.applyYAML(t, oauthYAML, map[string]string{"CLIENT_SECRET": "the-client-secret"})
	d, _ := c.Store.DeviceByName(ctx, "m365")
	m, err := c.Store.MonitorByName(ctx, d.ID, "loop")
	if err != nil {
		t.Fatal(err)
	}
	rec := func(n string) string { return vault.MonitorRecord(m.ID, n) }
	if got := c.open(t, m.Secrets, config.SecretOAuthClient, rec(config.SecretOAuthClient)); got != "the-client-secret" {
		t.Errorf("client secret %q", got)
	}
	if strings.Contains(string(m.Spec), "the-client-secret") || strings.Contains(string(m.Spec), "rt-first") {
		t.Errorf("a secret in the spec: %s", m.Spec)
	}
	if err := c.StoreRefreshToken(ctx, m.ID, "", "rt-rotated"); err != nil {
		t.Fatal(err)
	}
	m, _ = c.Store.Monitor(ctx, m.ID)
	if got := c.open(t, m.Secrets, config.SecretOAuthRefresh, rec(config.SecretOAuthRefresh)); got != "rt-rotated" {
		t.Errorf("after rotation the store holds %q", got)
	}
	if err := c.LoginRefreshToken(ctx, m.ID, "rt-login"); err != nil {
		t.Fatal(err)
	}
	m, _ = c.Store.Monitor(ctx, m.ID)
	if got := c.open(t, m.Secrets, config.SecretOAuthRefresh, rec(config.SecretOAuthRefresh)); got != "rt-login" {
		t.Errorf("after login the store holds %q", got)
	}

	// Over the network, another token URL drops both secrets.
	var mc config.Monitor
	json.Unmarshal(m.Spec, &mc)
	mc.Name, mc.Type = m.Name, m.Type
	mc.OAuth.TokenURL = "https://10.0.0.9/token"
	_, res, err := c.SaveMonitor(ctx, admin, m.ID, Monitor{Device: d.ID, Settings: mc})
	if err != nil {
		t.Fatal(err)
	}
	m, _ = c.Store.Monitor(ctx, m.ID)
	if _, ok := m.Secrets[config.SecretOAuthClient]; ok || len(res.Dropped) != 1 || len(res.Dropped[0].Secrets) != 2 {
		t.Errorf("kept %v, dropped %+v", m.Secrets, res.Dropped)
	}
	// A rotation arriving after the drop does not bring it back.
	if err := c.StoreRefreshToken(ctx, m.ID, "", "rt-late"); err != nil {
		t.Fatal(err)
	}
	if m, _ = c.Store.Monitor(ctx, m.ID); m.Secrets[config.SecretOAuthRefresh] != "" {
		t.Error("a late rotation brought the dropped refresh token back")
	}
	// A token URL outside --allow-targets is refused, naming the field.
	mc.OAuth.TokenURL = "https://192.0.2.1/token"
	_, _, err = c.SaveMonitor(ctx, admin, m.ID, Monitor{Device: d.ID, Settings: mc})
	fe, _ := err.(FieldErrors)
	if len(fe) != 1 || fe[0].Path != "oauth.token_url" || !strings.Contains(fe[0].Msg, "--allow-targets") {
		t.Errorf("a token URL outside the policy: %v %+v", err, fe)
	}
}
