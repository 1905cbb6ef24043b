package wire

import (
	"crypto/x509"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/testutil/certs"
)

// TestCAFileReloaded: a changed CA file is read again once the recheck
// interval has passed, not before; a file gone bad is reported until fixed.
func TestCAFileReloaded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newCAPools(5*time.Second, func() time.Time { return now })
	file := certs.NewCA(t).File(t)
	one, err := p.Pool(file, false)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(10 * time.Second)
	if again, _ := p.Pool(file, false); again != one || p.parses.Load() != 1 {
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
	if got, _ := p.Pool(file, false); got != one {
		t.Errorf("the file was looked at again within the recheck interval")
	}
	now = now.Add(5 * time.Second)
	two, err := p.Pool(file, false)
	if err != nil || two == one || !two.Equal(other.Pool()) {
		t.Fatalf("after a change and the interval: pool changed %v, holds the new CA %v, err %v", two != one, two != nil && two.Equal(other.Pool()), err)
	}

	write([]byte("not a certificate"), time.Now().Add(2*time.Hour))
	now = now.Add(6 * time.Second)
	if _, err := p.Pool(file, false); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Errorf("a file gone bad: err %v", err)
	}
	write(other.PEM, time.Now().Add(3*time.Hour))
	now = now.Add(6 * time.Second)
	if got, err := p.Pool(file, false); err != nil || !got.Equal(other.Pool()) {
		t.Errorf("a file fixed again: err %v", err)
	}
	if n := p.parses.Load(); n != 4 {
		t.Errorf("%d parses, want 4 (first, changed, bad, fixed)", n)
	}
}

// TestSystemCAPool: with the system's roots, the file's CA is trusted
// besides them, the pool is shared between calls, and it is not the pool
// of the file alone.
func TestSystemCAPool(t *testing.T) {
	ca := certs.NewCA(t)
	file := ca.File(t)
	sys, err := SystemCAPool(file)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := SystemCAPool(file)
	alone, _ := CAPool(file)
	if sys != again {
		t.Error("two calls for one file built two pools")
	}
	if sys == alone || alone.Equal(sys) {
		t.Error("the pool with the system's roots is the file's alone")
	}
	leaf, err := x509.ParseCertificate(ca.Issue(t, certs.Leaf{Names: []string{"mail.example"}}).Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: sys, DNSName: "mail.example"}); err != nil {
		t.Errorf("the file's CA is not trusted: %v", err)
	}
	if _, err := SystemCAPool(file + ".missing"); err == nil {
		t.Error("a missing file: no error")
	}
}
