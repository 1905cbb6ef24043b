package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPostgresNeedsASharedKey: with --db postgres:// the key of stored
// secrets must be given (nodes on other machines cannot share a key file
// beside the database); the error names both ways, and the URL's password
// is never printed.
func TestPostgresNeedsASharedKey(t *testing.T) {
	yaml := filepath.Join(t.TempDir(), "m.yaml")
	os.WriteFile(yaml, []byte("devices: []\n"), 0o600)
	const db = "postgres://mailmon:s3cret-pw@127.0.0.1:1/mailmon"
	for _, args := range [][]string{
		{"serve", "--db", db, "--listen", "127.0.0.1:0"},
		{"apply", "--db", db, "-f", yaml},
	} {
		code, _, errOut := runCLI(t, nil, args...)
		if code == ExitOK || !strings.Contains(errOut, "$MAILMON_SECRET_KEY") || !strings.Contains(errOut, "--key-file") {
			t.Errorf("%s: exit %d, %q", args[0], code, errOut)
		}
		if strings.Contains(errOut, "s3cret-pw") {
			t.Errorf("%s printed the database password: %q", args[0], errOut)
		}
	}
	// With a key, the next problem is the database itself (nothing listens
	// on port 1), and still no password in the message.
	key := filepath.Join(t.TempDir(), "key")
	os.WriteFile(key, []byte("0123456789abcdef0123456789abcdef"), 0o600)
	code, _, errOut := runCLI(t, nil, "apply", "--db", db, "--key-file", key, "-f", yaml)
	if code == ExitOK || strings.Contains(errOut, "--key-file") || strings.Contains(errOut, "s3cret-pw") {
		t.Errorf("apply with --key-file: exit %d, %q", code, errOut)
	}
}
