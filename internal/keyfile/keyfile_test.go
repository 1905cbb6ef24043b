package keyfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCreatedOnFirstUseWithMode0600(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cfg", "mailmon")
	src := Source{Dir: dir, Getenv: func(string) string { return "" }}
	k1, err := src.Load()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "secret"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode %v, %v", fi.Mode(), err)
	}
	if d, _ := os.Stat(dir); d.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v", d.Mode().Perm())
	}
	k2, err := src.Load()
	if err != nil || string(k1) != string(k2) || len(k1) < MinLen {
		t.Fatalf("second load gave another secret or failed: %v", err)
	}
	for _, s := range []string{fmt.Sprint(k1), fmt.Sprintf("%v %s %#v", k1, k1, k1)} {
		if strings.Contains(s, string(k1)) {
			t.Errorf("the secret printed itself: %s", s)
		}
	}
}

func TestPrecedenceAndChecks(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "given")
	os.WriteFile(file, []byte("a-secret-from-a-file-0123\n"), 0o600)
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == InstallationEnv {
				return v
			}
			return ""
		}
	}
	if k, err := (Source{File: file, Getenv: env("from-the-environment-xyz")}).Load(); err != nil || string(k) != "a-secret-from-a-file-0123" {
		t.Errorf("file must win: %q %v", k, err)
	}
	if k, err := (Source{Dir: dir, Getenv: env("from-the-environment-xyz")}).Load(); err != nil || string(k) != "from-the-environment-xyz" {
		t.Errorf("environment: %q %v", k, err)
	}
	if _, err := (Source{Getenv: env("short")}).Load(); err == nil {
		t.Error("a short secret was accepted")
	}
	open := filepath.Join(dir, "open")
	os.WriteFile(open, []byte("readable-by-everyone-0123456"), 0o644)
	if _, err := (Source{File: open}).Load(); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a world-readable secret file was accepted: %v", err)
	}
	if _, err := (Source{File: filepath.Join(dir, "missing")}).Load(); err == nil {
		t.Error("a missing --secret-file was accepted (it must not be created)")
	}
}
