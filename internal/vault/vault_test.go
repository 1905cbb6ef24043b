package vault

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	dir := t.TempDir()
	noEnv := func(string) string { return "" }
	v, err := Load(dir, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "storage.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	sealed, err := v.Seal([]byte("hunter22"), "monitor/1/password")
	if err != nil || strings.Contains(sealed, "hunter22") || !strings.HasPrefix(sealed, "v1:") {
		t.Fatalf("sealed %q, %v", sealed, err)
	}
	again, _ := v.Seal([]byte("hunter22"), "monitor/1/password")
	if again == sealed {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	if pt, err := v.Open(sealed, "monitor/1/password"); err != nil || string(pt) != "hunter22" {
		t.Fatalf("open: %q %v", pt, err)
	}
	v2, _ := Load(dir, noEnv) // a restart reads the same key
	if pt, err := v2.Open(sealed, "monitor/1/password"); err != nil || string(pt) != "hunter22" {
		t.Fatalf("after reload: %q %v", pt, err)
	}
	for name, tc := range map[string]struct{ sealed, record string }{
		"another record": {sealed, "monitor/2/password"},
		"tampered":       {sealed[:len(sealed)-2] + "AA", "monitor/1/password"},
		"not sealed":     {"hunter22", "monitor/1/password"},
		"truncated":      {"v1:AAAA", "monitor/1/password"},
		"bad base64":     {"v1:!!!", "monitor/1/password"},
	} {
		if _, err := v.Open(tc.sealed, tc.record); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: %v", name, err)
		}
	}
	other, _ := Load(t.TempDir(), noEnv)
	if _, err := other.Open(sealed, "monitor/1/password"); !errors.Is(err, ErrOpen) {
		t.Error("another installation's key opened the secret")
	}
	fromEnv, err := Load(t.TempDir(), func(k string) string {
		if k == EnvVar {
			return "a-key-given-in-the-environment"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := fromEnv.Seal([]byte("x"), "r")
	if _, err := v.Open(s, "r"); err == nil {
		t.Error("environment key ignored")
	}
}

// TestRecordNames: the names secrets are sealed under are part of every
// database: a value sealed by an older mailmon must open under the same
// name, so they never change.
func TestRecordNames(t *testing.T) {
	for got, want := range map[string]string{
		MonitorRecord(12, "password"):      "monitor/12/password",
		MonitorRecord(12, "smtp.password"): "monitor/12/smtp.password",
		AlertRecord(3, "relay.password"):   "alert/3/relay.password",
		AlertRecord(3, "webhook.url"):      "alert/3/webhook.url",
		CredentialRecord(7, "key"):         "credential/7/key",
		CredentialRecord(7, "password"):    "credential/7/password",
	} {
		if got != want {
			t.Errorf("record %q, want %q", got, want)
		}
	}
}
