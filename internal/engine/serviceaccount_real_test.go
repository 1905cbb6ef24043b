package engine

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/testutil/oauthsrv"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestServiceAccountAgainstRealDovecot: a Google Workspace monitor with
// a service account (provider google, the key sealed, no client id or
// secret, the subject the monitor's user): the engine opens the key,
// mailmon signs the JWT assertion and gets a token for the subject from
// the local authorization server (which verifies the signature and the
// claims), and real Dovecot takes it over IMAP XOAUTH2. A service account
// whose delegation lacks the scope fails auth_failed, saying so.
func TestServiceAccountAgainstRealDovecot(t *testing.T) {
	ctx := context.Background()
	srv, e, caFile, st, v, d := oauthMail(t)
	const email = "probe-monitor@mailmon-test.iam.gserviceaccount.com"
	add := func(name, key string) int64 {
		t.Helper()
		mc := config.Monitor{Name: name, Type: "imap", Port: e.IMAPS, User: e.User, CA: caFile, ServerName: e.ServerName, Auth: "XOAUTH2",
			OAuth:  &config.OAuth{Provider: "google"},
			Timing: config.Timing{MaxDuration: config.Duration(20 * time.Second), UpEvery: config.Duration(time.Hour)}}
		mc.ApplyDefaults()
		spec, _ := json.Marshal(mc)
		m := &store.Monitor{DeviceID: d.ID, Name: name, Type: mc.Type, Enabled: true, Spec: spec}
		must(t, st.PutMonitor(ctx, m))
		sealed, _ := v.Seal([]byte(key), vault.MonitorRecord(m.ID, config.SecretOAuthSAKey))
		m.Secrets = map[string]string{config.SecretOAuthSAKey: sealed}
		must(t, st.PutMonitor(ctx, m))
		return m.ID
	}
	key := srv.NewServiceAccount(t, email, "https://mail.google.com/")
	good := add("workspace", key)
	undelegated := add("not delegated", srv.NewServiceAccount(t, "other@mailmon-test.iam.gserviceaccount.com", ""))

	en := New(Options{Store: st, Vault: v, InstallationKey: keyfile.Key("engine-test-installation-secret")})
	must(t, en.Load(ctx))
	r, err := en.TestNow(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != probe.StatusUp || r.Auth != "XOAUTH2" {
		t.Fatalf("the service account's token over IMAP: %s %+v\n%s", r.Status, r.Error, e.LogTail())
	}
	if n := srv.Requests(oauthsrv.JWTBearer); n != 1 {
		t.Errorf("%d JWT bearer requests, want 1", n)
	}
	b, _ := json.Marshal(r)
	for _, s := range append(srv.Issued(), "PRIVATE KEY") {
		if strings.Contains(string(b), s) {
			t.Errorf("the result shows a token or the key:\n%s", b)
		}
	}
	r, err = en.TestNow(ctx, undelegated)
	if err != nil {
		t.Fatal(err)
	}
	if r.Error == nil || r.Error.Code != probe.AuthFailed || !strings.Contains(r.Error.Detail, "domain-wide delegation is not granted") {
		t.Errorf("a service account without delegation: %s %+v", r.Status, r.Error)
	}
}
