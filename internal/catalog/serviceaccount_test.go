package catalog

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestServiceAccountKeyFromTheOperatorsFile: apply reads a service
// account key named by {file: …} on the host and seals it under the
// monitor (no client secret needed); without a key the field is named.
func TestServiceAccountKeyFromTheOperatorsFile(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t)
	keyFile := filepath.Join(t.TempDir(), "sa.json")
	const key = `{"type": "service_account", "client_email": "m@p.iam.gserviceaccount.com", "private_key": "k3y"}`
	if err := os.WriteFile(keyFile, []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	y := `devices:
  - name: workspace
    address: 127.0.0.1
    monitors:
      - name: login
        type: imap
        tls: implicit
        user: probe@example.com
        auth: XOAUTH2
        oauth:
          token_url: https://127.0.0.1:8443/token
          scope: https://mail.google.com/
          subject: probe@example.com
          service_account_key: {file: ` + keyFile + `}
`
	c.applyYAML(t, y, nil)
	d, _ := c.Store.DeviceByName(ctx, "workspace")
	m, err := c.Store.MonitorByName(ctx, d.ID, "login")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.open(t, m.Secrets, config.SecretOAuthSAKey, vault.MonitorRecord(m.ID, config.SecretOAuthSAKey)); got != key {
		t.Errorf("the sealed key opens to %q", got)
	}
	if strings.Contains(string(m.Spec), "k3y") || strings.Contains(string(m.Spec), keyFile) {
		t.Errorf("the key or its path in the spec: %s", m.Spec)
	}
	f, _ := config.Parse("t.yaml", []byte(strings.Replace(strings.Replace(y, "login", "other", 1), "          service_account_key: {file: "+keyFile+"}\n", "", 1)))
	_, err = c.ApplyFile(ctx, f, Env{Getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "oauth.service_account_key") {
		t.Errorf("a service account without its key: %v", err)
	}
}
