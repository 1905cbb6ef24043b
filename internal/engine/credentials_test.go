package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/testutil/fakessh"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestCredentialChangeReloadsItsMonitors: a monitor holds its recoveries'
// credentials opened in memory. A new password stored behind the engine's
// back (apply, another node) reaches it at the next sync, and so do a
// deletion and a credential created under the name it names; a monitor
// that names another credential is not reloaded. ReloadCredentials (the
// API's path) does the same at once.
func TestCredentialChangeReloadsItsMonitors(t *testing.T) {
	ctx := context.Background()
	st := openTestStore(t)
	v, _ := vault.New([]byte("engine-test-key-0123456789"))
	signer, err := ssh.NewSignerFromKey(fakessh.NewKey(t))
	must(t, err)
	hostKey := fakessh.KnownHost(signer.PublicKey())
	putCred := func(c *store.Credential, pw string) {
		t.Helper()
		spec, _ := json.Marshal(config.Credential{Name: c.Name, User: "ops", KnownHost: hostKey})
		c.Spec = spec
		if c.ID == 0 {
			must(t, st.PutCredential(ctx, c))
		}
		sealed, err := v.Seal([]byte(pw), vault.CredentialRecord(c.ID, "password"))
		must(t, err)
		c.Secrets = map[string]string{"password": sealed}
		must(t, st.PutCredential(ctx, c))
	}
	ops := &store.Credential{Name: "ops"}
	putCred(ops, "pw-1")
	other := &store.Credential{Name: "other"}
	putCred(other, "other-pw")
	d := putDevice(t, st, "mail1", false)
	monitor := func(name, cred string) *store.Monitor {
		spec, _ := json.Marshal(config.Monitor{Port: 25, Timing: config.Timing{UpEvery: config.Duration(time.Hour)},
			Recovery: []config.Recovery{{Command: []string{"true"}, SSH: "ops@192.0.2.1", Credential: cred}}})
		m := &store.Monitor{DeviceID: d.ID, Name: name, Type: "tcp", Enabled: true, Spec: spec}
		must(t, st.PutMonitor(ctx, m))
		return m
	}
	uses, usesOther := monitor("uses ops", "ops"), monitor("uses other", "other")

	e := New(Options{Store: st, Vault: v})
	must(t, e.Load(ctx))
	loaded := func(m *store.Monitor) *entry {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.monitors[m.ID]
	}
	password := func(m *store.Monitor, cred string) string {
		if c, _ := loaded(m).cred(cred); c != nil {
			return c.Secrets()[0] // the password, then the key
		}
		return ""
	}
	if got := password(uses, "ops"); got != "pw-1" {
		t.Fatalf("loaded with %q", got)
	}
	otherEntry := loaded(usesOther)

	// Stored versions are milliseconds: let the clock pass the one the
	// monitors read, so that the change is a new version.
	time.Sleep(2 * time.Millisecond)
	putCred(ops, "pw-2")
	must(t, e.sync(ctx))
	if got := password(uses, "ops"); got != "pw-2" {
		t.Errorf("after a new password and a sync: %q, want pw-2", got)
	}
	if loaded(usesOther) != otherEntry {
		t.Error("a monitor that does not use the credential was reloaded")
	}

	must(t, st.DeleteCredential(ctx, ops.ID))
	must(t, e.sync(ctx))
	if c, err := loaded(uses).cred("ops"); c != nil || err == nil {
		t.Errorf("after the credential's deletion: cred %v, error %v", c, err)
	}
	again := &store.Credential{Name: "ops"}
	putCred(again, "pw-3")
	must(t, e.sync(ctx))
	if got := password(uses, "ops"); got != "pw-3" {
		t.Errorf("after a credential is created under the name: %q, want pw-3", got)
	}

	time.Sleep(2 * time.Millisecond)
	putCred(again, "pw-4")
	must(t, e.ReloadCredentials(ctx, "ops"))
	if got := password(uses, "ops"); got != "pw-4" {
		t.Errorf("after ReloadCredentials: %q, want pw-4", got)
	}
}

// TestCredentialUsersIndexed: the engine finds the monitors that read a
// credential in its index of them (credUsers), not by walking every
// monitor loaded (100,000 under the engine's lock at each look); the
// index follows a monitor's reload and deletion, and a credential created
// under the name a monitor reads reloads it.
func TestCredentialUsersIndexed(t *testing.T) {
	ctx := t.Context()
	st := openTestStore(t)
	d := putDevice(t, st, "mail1", false)
	spec := func(cred string) json.RawMessage {
		m := config.Monitor{Port: 25, Timing: config.Timing{UpEvery: config.Duration(time.Hour)}}
		if cred != "" {
			m.Recovery = []config.Recovery{{Command: []string{"true"}, SSH: "ops@192.0.2.1", Credential: cred}}
		}
		b, _ := json.Marshal(m)
		return b
	}
	uses := &store.Monitor{DeviceID: d.ID, Name: "uses", Type: "tcp", Enabled: true, Spec: spec("ops")}
	must(t, st.PutMonitor(ctx, uses))
	for i := range 20 {
		must(t, st.PutMonitor(ctx, &store.Monitor{DeviceID: d.ID, Name: fmt.Sprint("plain", i), Type: "tcp", Enabled: true, Spec: spec("")}))
	}
	e := New(Options{Store: st})
	must(t, e.Load(ctx))
	index := func() string {
		e.mu.Lock()
		defer e.mu.Unlock()
		return fmt.Sprint(e.credUsers)
	}
	if got, want := index(), fmt.Sprintf("map[ops:map[%d:{}]]", uses.ID); got != want {
		t.Errorf("loaded: index %s, want %s", got, want)
	}
	must(t, e.sync(ctx))
	must(t, st.PutCredential(ctx, &store.Credential{Name: "ops", Spec: json.RawMessage(`{"user":"ops"}`)}))
	must(t, e.sync(ctx))
	e.mu.Lock()
	seen := e.monitors[uses.ID].credSeen()["ops"]
	e.mu.Unlock()
	if seen.IsZero() {
		t.Error("a credential created under the name a monitor reads did not reload it")
	}
	uses.Spec = spec("")
	must(t, st.PutMonitor(ctx, uses))
	must(t, e.Reload(ctx, uses.ID))
	if got := index(); got != "map[]" {
		t.Errorf("after the monitor stopped reading it: index %s, want none", got)
	}
	uses.Spec = spec("ops")
	must(t, st.PutMonitor(ctx, uses))
	must(t, e.Reload(ctx, uses.ID))
	must(t, st.DeleteMonitor(ctx, uses.ID))
	must(t, e.Reload(ctx, uses.ID))
	if got := index(); got != "map[]" {
		t.Errorf("after the monitor's deletion: index %s, want none", got)
	}
}
