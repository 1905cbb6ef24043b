package engine

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/oauthsrv"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestMonitorsShareOneToken: many monitors of one credential, loaded by
// the engine with their secrets opened, fetch one token between them; a
// refresh token the endpoint rotates reaches Options.StoreRefreshToken
// once per monitor, and a new engine on the same store (a restart) with
// the stored one keeps working.
func TestMonitorsShareOneToken(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "e.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := newRotating(t, st)
	srv, v := r.srv, r.v
	var ids []int64
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		ids = append(ids, r.monitor(t, name))
	}
	var mu sync.Mutex
	stored := map[int64]string{}
	storeRT := func(_ context.Context, id int64, _, r string) error {
		mu.Lock()
		stored[id] = r
		mu.Unlock()
		return nil
	}
	noop := func(context.Context, *probe.Config, *probe.Trace) error { return nil }
	e := New(Options{Store: st, Vault: v, InstallationKey: keyfile.Key("engine-test-installation-secret"),
		Probers: func(string) (probe.Prober, bool) { return noop, true }, StoreRefreshToken: storeRT})
	must(t, e.Load(ctx))
	var wg sync.WaitGroup
	for _, id := range ids {
		cfg, err := e.MonitorConfig(id)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if _, err := cfg.OAuthToken.Token(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := srv.Requests("refresh_token"); n != 1 {
		t.Errorf("%d token requests for 5 monitors of one credential, want 1", n)
	}
	if len(stored) != len(ids) {
		t.Fatalf("the rotated refresh token was stored for %d monitors of %d", len(stored), len(ids))
	}
	// A restart: the store now holds the rotated token (the catalog's
	// StoreRefreshToken does it; here by hand), the old one is dead.
	for _, id := range ids {
		m, _ := st.Monitor(ctx, id)
		s, _ := v.Seal([]byte(stored[id]), vault.MonitorRecord(id, config.SecretOAuthRefresh))
		m.Secrets[config.SecretOAuthRefresh] = s
		must(t, st.PutMonitor(ctx, m))
	}
	e2 := New(Options{Store: st, Vault: v, InstallationKey: keyfile.Key("engine-test-installation-secret"),
		Probers: func(string) (probe.Prober, bool) { return noop, true }})
	must(t, e2.Load(ctx))
	cfg, _ := e2.MonitorConfig(ids[0])
	if _, err := cfg.OAuthToken.Token(ctx); err != nil {
		t.Errorf("after a restart: %v", err)
	}
}

// rotating is a token endpoint that rotates refresh tokens (revoking the
// old one once used), a refresh token it issued, and monitors on a device
// of st that refresh with it.
type rotating struct {
	srv  *oauthsrv.Server
	rt   string
	v    *vault.Vault
	st   store.Store
	dev  *store.Device
	spec json.RawMessage
}

func newRotating(t *testing.T, st store.Store) *rotating {
	t.Helper()
	ca := certs.NewCA(t)
	r := &rotating{srv: oauthsrv.New(t, ca, time.Hour), st: st, dev: &store.Device{Name: "mail1", Address: "127.0.0.1"}}
	r.srv.AddClient(oauthsrv.Client{ID: "app", Secret: "app-secret", Mailbox: "u@example.test"})
	r.srv.SetRotate(true)
	r.rt = r.srv.IssueRefresh("app", "u@example.test", "")
	r.v, _ = vault.New([]byte("engine-test-key-0123456789abc"))
	must(t, st.PutDevice(context.Background(), r.dev))
	r.spec, _ = json.Marshal(config.Monitor{TLS: "implicit", User: "u@example.test", CA: ca.File(t),
		OAuth:  &config.OAuth{TokenURL: r.srv.TokenURL(), ClientID: "app", Scope: "mail"},
		Timing: config.Timing{MaxDuration: config.Duration(5 * time.Second), UpEvery: config.Duration(time.Hour)}})
	return r
}

// monitor adds an imap monitor with the client secret and the refresh
// token sealed.
func (r *rotating) monitor(t *testing.T, name string) int64 {
	t.Helper()
	ctx := context.Background()
	m := &store.Monitor{DeviceID: r.dev.ID, Name: name, Type: "imap", Enabled: true, Spec: r.spec}
	must(t, r.st.PutMonitor(ctx, m))
	seal := func(n, val string) string { s, _ := r.v.Seal([]byte(val), vault.MonitorRecord(m.ID, n)); return s }
	m.Secrets = map[string]string{config.SecretOAuthClient: seal(config.SecretOAuthClient, "app-secret"),
		config.SecretOAuthRefresh: seal(config.SecretOAuthRefresh, r.rt)}
	must(t, r.st.PutMonitor(ctx, m))
	return m.ID
}
