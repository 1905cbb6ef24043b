package probe

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/wire"
)

// TestCAFileParsedOnce: many monitors naming one ca: file share one pool,
// read and parsed once, by validation and by the TLS handshake's config.
func TestCAFileParsedOnce(t *testing.T) {
	file := certs.NewCA(t).File(t)
	before := wire.CAParses()
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
	if n := wire.CAParses() - before; n != 1 {
		t.Errorf("one CA file for 50 monitors was parsed %d times, want once", n)
	}
	a, _ := wire.CAPool(file)
	b, _ := wire.CAPool(filepath.Join(filepath.Dir(file), ".", "ca.pem"))
	if a == nil || a != b {
		t.Errorf("the same file by two spellings: pools %p and %p, want one", a, b)
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
