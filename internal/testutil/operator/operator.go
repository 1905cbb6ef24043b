// Package operator does in tests what the operator does on the host: sets
// a store up with "mailmon apply" (commands and local paths come only from
// there), and reads back all a save could change, to prove a refused save
// wrote nothing.
package operator

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/mailmon/mailmon/internal/apply"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// Apply applies a configuration (YAML) to st as "mailmon apply -f" does.
func Apply(t testing.TB, st store.Store, v *vault.Vault, yaml string) {
	t.Helper()
	file, err := config.Parse("operator.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apply.Apply(context.Background(), st, v, file, apply.Env{}); err != nil {
		t.Fatal(err)
	}
}

// Snapshot is everything stored that a save could change: devices,
// monitors, alerts and credentials with their specs and sealed secrets.
func Snapshot(t testing.TB, st store.Store) string {
	t.Helper()
	ctx := context.Background()
	ds, _, err1 := st.Devices(ctx, store.Page{Limit: 1000})
	ms, _, err2 := st.Monitors(ctx, store.MonitorFilter{Page: store.Page{Limit: 1000}})
	as, _, err3 := st.Alerts(ctx, store.Page{Limit: 1000})
	cs, _, err4 := st.Credentials(ctx, store.Page{Limit: 1000})
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			t.Fatal(err)
		}
	}
	b, _ := json.Marshal([]any{ds, ms, as, cs})
	return string(b)
}

// HostKey is a new SSH host key in authorized_keys form, for a credential's
// known_host.
func HostKey(t testing.TB) string {
	t.Helper()
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
}
