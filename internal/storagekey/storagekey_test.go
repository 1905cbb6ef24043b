package storagekey

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/vault"
)

var ctx = context.Background()

func open(t *testing.T) store.Store {
	t.Helper()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func key(t *testing.T, k string) *vault.Vault {
	t.Helper()
	v, err := vault.New([]byte(k))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// monitorWith stores a monitor whose password is sealed under v.
func monitorWith(t *testing.T, s store.Store, v *vault.Vault, name string) *store.Monitor {
	t.Helper()
	d, err := s.DeviceByName(ctx, "d")
	if errors.Is(err, store.ErrNotFound) {
		d = &store.Device{Name: "d", Address: "h"}
		err = s.PutDevice(ctx, d)
	}
	if err != nil {
		t.Fatal(err)
	}
	m := &store.Monitor{DeviceID: d.ID, Name: name, Type: "imap", Enabled: true, Spec: json.RawMessage(`{}`)}
	if err := s.PutMonitor(ctx, m); err != nil {
		t.Fatal(err)
	}
	sealed, _ := v.Seal([]byte("pw-"+name), vault.MonitorRecord(m.ID, "password"))
	m.Secrets = map[string]string{"password": sealed}
	if err := s.PutMonitor(ctx, m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCheckWritesAVerifierAndRefusesAnotherKey(t *testing.T) {
	s := open(t)
	a, b := key(t, "key-a-0123456789abcdef"), key(t, "key-b-0123456789abcdef")
	if _, err := Check(ctx, s, a, Origin{File: "/k"}, true); err != nil {
		t.Fatal(err)
	}
	kc, _ := s.Meta(ctx, store.MetaKeyCheck)
	if kc == "" || !verifies(a, kc) {
		t.Fatalf("no verifier written: %q", kc)
	}
	if _, err := Check(ctx, s, a, Origin{File: "/k"}, true); err != nil {
		t.Errorf("the same key again: %v", err)
	}
	_, err := Check(ctx, s, b, Origin{Env: "MAILMON_SECRET_KEY"}, true)
	var wk *WrongKeyError
	if !errors.As(err, &wk) || !strings.Contains(err.Error(), "$MAILMON_SECRET_KEY") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Errorf("another key: %v", err)
	}
	if kc2, _ := s.Meta(ctx, store.MetaKeyCheck); kc2 != kc {
		t.Error("a refused key changed the verifier")
	}
}

// TestCheckOfAnOlderDatabase: a database made before the verifier gets one
// only once the key opens one of its secrets.
func TestCheckOfAnOlderDatabase(t *testing.T) {
	s := open(t)
	a, b := key(t, "key-a-0123456789abcdef"), key(t, "key-b-0123456789abcdef")
	monitorWith(t, s, a, "m1")
	_, err := Check(ctx, s, b, Origin{File: "/srv/storage.key", Created: true}, true)
	if err == nil || !strings.Contains(err.Error(), "none of its 1 stored secrets opens") || !strings.Contains(err.Error(), "created just now") {
		t.Fatalf("a wrong key on an older database: %v", err)
	}
	if kc, _ := s.Meta(ctx, store.MetaKeyCheck); kc != "" {
		t.Fatal("a refused key wrote a verifier")
	}
	// A database apply left with two keys (issue 19, finding 6): the key
	// that opens some is taken, and the others are named.
	m2 := monitorWith(t, s, b, "m2")
	w, err := Check(ctx, s, a, Origin{File: "/srv/storage.key"}, true)
	if err != nil || len(w) != 1 || !strings.Contains(w[0], "monitor "+itoa(m2.ID)+" password") {
		t.Errorf("mixed keys: %v %v", w, err)
	}
	if kc, _ := s.Meta(ctx, store.MetaKeyCheck); !verifies(a, kc) {
		t.Error("no verifier after the check")
	}
}

func TestCheckReadOnlyWritesNothing(t *testing.T) {
	s := open(t)
	if _, err := Check(ctx, s, key(t, "key-a-0123456789abcdef"), Origin{File: "/k"}, false); err != nil {
		t.Fatal(err)
	}
	if kc, _ := s.Meta(ctx, store.MetaKeyCheck); kc != "" {
		t.Error("a read-only check wrote a verifier")
	}
}

func TestSealWebhooks(t *testing.T) {
	s := open(t)
	v := key(t, "key-a-0123456789abcdef")
	const u = "https://hooks.example.test/services/T0/B0/s3cret-path"
	// As an older mailmon stored it: the URL in the settings.
	a := &store.Alert{Name: "hook", Kind: "webhook", Spec: json.RawMessage(`{"name":"hook","webhook":{"url":"` + u + `","format":"slack"}}`)}
	if err := s.PutAlert(ctx, a); err != nil {
		t.Fatal(err)
	}
	if n, err := SealWebhooks(ctx, s, v); n != 1 || err != nil {
		t.Fatalf("SealWebhooks = %d, %v", n, err)
	}
	got, _ := s.Alert(ctx, a.ID)
	if strings.Contains(string(got.Spec), "s3cret-path") || !strings.Contains(string(got.Spec), `"slack"`) {
		t.Errorf("settings after sealing: %s", got.Spec)
	}
	pt, err := v.Open(got.Secrets["webhook.url"], vault.AlertRecord(a.ID, "webhook.url"))
	if err != nil || string(pt) != u {
		t.Errorf("sealed URL: %q %v", pt, err)
	}
	if n, err := SealWebhooks(ctx, s, v); n != 0 || err != nil {
		t.Errorf("a second pass: %d, %v", n, err)
	}
	var spec config.Alert
	json.Unmarshal(got.Spec, &spec)
	if spec.Webhook == nil || spec.Webhook.Format != "slack" {
		t.Errorf("the webhook's other settings: %+v", spec.Webhook)
	}
}

func TestRotate(t *testing.T) {
	s := open(t)
	a, b := key(t, "key-a-0123456789abcdef"), key(t, "key-b-0123456789abcdef")
	keyFile := filepath.Join(t.TempDir(), "storage.key")
	if err := os.WriteFile(SideFile(keyFile), []byte("key-b-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	monitorWith(t, s, a, "m1")
	if _, err := Unlock(ctx, s, a, Origin{File: keyFile}); err != nil {
		t.Fatal(err)
	}
	n, err := Rotate(ctx, s, a, b, Rotation{NewKeyFile: SideFile(keyFile)})
	if err != nil || n != 2 {
		t.Fatalf("Rotate = %d, %v", n, err)
	}
	all, _ := s.Sealed(ctx)
	for _, x := range all {
		if _, err := b.Open(x.Value, record(x)); err != nil {
			t.Errorf("%+v does not open under the new key", x)
		}
		if _, err := a.Open(x.Value, record(x)); err == nil {
			t.Errorf("%+v still opens under the old key", x)
		}
	}
	// Started with the old key, the message names the new one.
	_, err = Check(ctx, s, a, Origin{File: keyFile}, true)
	if err == nil || !strings.Contains(err.Error(), "interrupted") || !strings.Contains(err.Error(), SideFile(keyFile)) {
		t.Errorf("the old key after a rotation: %v", err)
	}

	// A value the current key does not open stops a rotation before it
	// starts, naming it.
	m := monitorWith(t, s, a, "m2")
	if _, err := Rotate(ctx, s, b, a, Rotation{}); err == nil || !strings.Contains(err.Error(), "monitor "+itoa(m.ID)+" password") {
		t.Errorf("a rotation over an unreadable value: %v", err)
	}
	if _, err := Check(ctx, s, b, Origin{File: "/k"}, true); err != nil {
		t.Errorf("the refused rotation changed the key: %v", err)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
