package probe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/testutil/certs"
)

// TestCAFileParsedOnce: many monitors naming one ca: file share one pool,
// read and parsed once, by validation and by the TLS handshake's config.
func TestCAFileParsedOnce(t *testing.T) {
	file := certs.NewCA(t).File(t)
	before := CAParses()
	var first *Config
	for i := 0; i < 50; i++ {
		c := &Config{Type: "smtp", Host: "127.0.0.1", Port: 25, TLS: TLSStartTLS, CAFile: file}
		if err := c.Validate(SMTPKind()); err != nil {
			t.Fatal(err)
		}
		if _, err := c.tlsConfig(&Trace{}); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = c
		}
	}
	if n := CAParses() - before; n != 1 {
		t.Errorf("one CA file for 50 monitors was parsed %d times, want once", n)
	}
	a, _ := cas.Pool(file)
	b, _ := cas.Pool(filepath.Join(filepath.Dir(file), ".", "ca.pem"))
	if a == nil || a != b {
		t.Errorf("the same file by two spellings: pools %p and %p, want one", a, b)
	}
}

// TestCAFileReloaded: a changed CA file is read again once the recheck
// interval has passed, not before; a file gone bad is reported until fixed.
func TestCAFileReloaded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newCAPools(5*time.Second, func() time.Time { return now })
	file := certs.NewCA(t).File(t)
	one, err := p.Pool(file)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(10 * time.Second)
	if again, _ := p.Pool(file); again != one || p.parses.Load() != 1 {
		t.Fatalf("an unchanged file was parsed again (%d parses)", p.parses.Load())
	}

	other := certs.NewCA(t)
	write := func(b []byte, mtime time.Time) {
		t.Helper()
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(file, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	write(other.PEM, time.Now().Add(time.Hour))
	now = now.Add(time.Second)
	if got, _ := p.Pool(file); got != one {
		t.Errorf("the file was looked at again within the recheck interval")
	}
	now = now.Add(5 * time.Second)
	two, err := p.Pool(file)
	if err != nil || two == one || !two.Equal(other.Pool()) {
		t.Fatalf("after a change and the interval: pool changed %v, holds the new CA %v, err %v", two != one, two != nil && two.Equal(other.Pool()), err)
	}

	write([]byte("not a certificate"), time.Now().Add(2*time.Hour))
	now = now.Add(6 * time.Second)
	if _, err := p.Pool(file); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Errorf("a file gone bad: err %v", err)
	}
	write(other.PEM, time.Now().Add(3*time.Hour))
	now = now.Add(6 * time.Second)
	if got, err := p.Pool(file); err != nil || !got.Equal(other.Pool()) {
		t.Errorf("a file fixed again: err %v", err)
	}
	if n := p.parses.Load(); n != 4 {
		t.Errorf("%d parses, want 4 (first, changed, bad, fixed)", n)
	}
}

// TestCAFileMissing names the field.
func TestCAFileMissing(t *testing.T) {
	c := &Config{Type: "smtp", Host: "127.0.0.1", Port: 25, TLS: TLSStartTLS, CAFile: filepath.Join(t.TempDir(), "none.pem")}
	err := c.Validate(SMTPKind())
	if err == nil || !strings.Contains(err.Error(), "ca") || !strings.Contains(err.Error(), "none.pem") {
		t.Errorf("err %v, want the ca field and the file named", err)
	}
}
