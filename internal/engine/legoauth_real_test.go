package engine

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/oauthsrv"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestSMTPLegOwnOAuthAgainstRealServers: a round trip whose SMTP leg has
// an oauth block of its own (another app, for the sending account) and
// whose mailbox has its own: the engine opens both blocks' secrets and
// each leg fetches its own token from the local authorization server
// (client credentials). Real Postfix submission (SASL through Dovecot's
// oauth2 passdb) takes only the leg's token, real Dovecot IMAP only the
// mailbox's: the round trip is Up, and a leg given the mailbox's app
// instead is refused at the submission server.
func TestSMTPLegOwnOAuthAgainstRealServers(t *testing.T) {
	ctx := context.Background()
	srv, e, caFile, st, v, d := oauthMail(t)
	const imapSecret, smtpSecret = "imap-app-secret-value", "smtp-app-secret-value"
	srv.AddClient(oauthsrv.Client{ID: "imap-app", Secret: imapSecret, Mailbox: e.User})
	srv.AddClient(oauthsrv.Client{ID: "smtp-app", Secret: smtpSecret, Mailbox: e.User2})
	add := func(name, legClient, legSecret string) int64 {
		t.Helper()
		mc := config.Monitor{Name: name, Type: "imap-roundtrip", Port: e.IMAPS, TLS: "implicit", User: e.User, CA: caFile, ServerName: e.ServerName,
			From: e.User, To: e.User,
			OAuth: &config.OAuth{TokenURL: srv.TokenURL(), ClientID: "imap-app", Scope: "imap"},
			SMTP: &config.Leg{Host: "127.0.0.1", Port: e.Submission, TLS: "starttls", User: e.User2, CA: caFile, ServerName: e.ServerName,
				OAuth: &config.OAuth{TokenURL: srv.TokenURL(), ClientID: legClient, Scope: "smtp"}},
			Timing: config.Timing{MaxDuration: config.Duration(30 * time.Second), UpEvery: config.Duration(time.Hour)}}
		mc.ApplyDefaults()
		spec, _ := json.Marshal(mc)
		m := &store.Monitor{DeviceID: d.ID, Name: name, Type: mc.Type, Enabled: true, Spec: spec}
		must(t, st.PutMonitor(ctx, m))
		seal := func(n, val string) string { s, _ := v.Seal([]byte(val), vault.MonitorRecord(m.ID, n)); return s }
		m.Secrets = map[string]string{config.SecretOAuthClient: seal(config.SecretOAuthClient, imapSecret),
			config.SecretSMTPOAuthClient: seal(config.SecretSMTPOAuthClient, legSecret)}
		must(t, st.PutMonitor(ctx, m))
		return m.ID
	}
	own := add("own leg token", "smtp-app", smtpSecret)
	borrowed := add("mailbox token on the leg", "imap-app", imapSecret)

	en := New(Options{Store: st, Vault: v, InstallationKey: keyfile.Key("engine-test-installation-secret")})
	must(t, en.Load(ctx))
	check := func(r *probe.Result) {
		t.Helper()
		b, _ := json.Marshal(r)
		for _, s := range append(srv.Issued(), imapSecret, smtpSecret) {
			if strings.Contains(string(b), s) {
				t.Errorf("the result shows a token or a secret:\n%s", b)
			}
		}
	}
	r, err := en.TestNow(ctx, own)
	if err != nil {
		t.Fatal(err)
	}
	check(r)
	if r.Status != probe.StatusUp {
		t.Fatalf("the round trip with the leg's own token: %s %+v\n%s", r.Status, r.Error, e.LogTail())
	}
	if n := srv.Requests("client_credentials"); n != 2 {
		t.Errorf("%d token requests, want 2 (one per leg)", n)
	}
	r, err = en.TestNow(ctx, borrowed)
	if err != nil {
		t.Fatal(err)
	}
	check(r)
	if r.Error == nil || r.Error.Code != probe.AuthFailed || r.Error.Phase != "smtp_auth" {
		t.Errorf("the mailbox's token on the submission leg: %s %+v", r.Status, r.Error)
	}
}

// oauthMail starts the local authorization server and real Postfix and
// Dovecot whose oauth2 passdb asks it, a store with a vault and a device
// on loopback; caFile trusts both the mail servers and the token
// endpoint (a monitor has one ca, trusted for both).
func oauthMail(t *testing.T) (*oauthsrv.Server, *realmail.Env, string, store.Store, *vault.Vault, *store.Device) {
	t.Helper()
	ca := certs.NewCA(t)
	srv := oauthsrv.New(t, ca, time.Hour)
	e := realmail.StartWith(t, realmail.Options{OAuth2: &realmail.OAuth2{
		IntrospectURL: strings.Replace(srv.IntrospectURL(), "127.0.0.1", "localhost", 1), CA: ca.PEM}})
	mailCA, err := os.ReadFile(e.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, append(mailCA, ca.PEM...), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "e.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	v, _ := vault.New([]byte("engine-test-key-0123456789abc"))
	d := &store.Device{Name: "mail", Address: "127.0.0.1"}
	must(t, st.PutDevice(context.Background(), d))
	return srv, e, caFile, st, v, d
}
