package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBackupArguments: the file before or after the flags; PostgreSQL,
// a missing file and a missing database are refused with what to do.
func TestBackupArguments(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "m.db")
	if code, _, errOut := runCLI(t, nil, "token", "list", "--db", db); code != 0 {
		t.Fatalf("token list: %s", errOut)
	}
	for _, args := range [][]string{
		{"backup", "--db", db, filepath.Join(dir, "a.db")},
		{"backup", filepath.Join(dir, "b.db"), "--db", db},
	} {
		if code, out, errOut := runCLI(t, nil, args...); code != 0 || !strings.Contains(out, "integrity checked") {
			t.Errorf("%v: exit %d %s%s", args, code, out, errOut)
		}
	}
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte("not a database, but long enough to be read as one by sqlite........................................................................................................"), 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"backup", "--db", "postgres://u@h/db", "x.db"}, "pg_dump"},
		{[]string{"restore", "--db", "postgres://u@h/db", "x.db"}, "pg_restore"},
		{[]string{"backup", "--db", db}, "give FILE"},
		{[]string{"backup", "--db", db, "a", "b"}, `unexpected argument "b"`},
		{[]string{"backup", "--db", filepath.Join(dir, "none.db"), "c.db"}, "no such file"},
		{[]string{"restore", "--db", db, filepath.Join(dir, "none.db")}, "no such file"},
		{[]string{"restore", "--db", filepath.Join(dir, "new.db"), junk}, "not a SQLite database"},
	} {
		code, _, errOut := runCLI(t, nil, c.args...)
		if code != ExitUnknown || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want 3 and %q", c.args, code, errOut, c.want)
		}
	}
}

// TestServeFlagsOfRunningWell: bad --trusted-proxies, --external-url and
// --log-format are refused naming the flag, before anything starts.
func TestServeFlagsOfRunningWell(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--trusted-proxies", "10.0.0.0/8,proxy.example.com"}, `--trusted-proxies: "proxy.example.com" is neither an address nor a CIDR`},
		{[]string{"--external-url", "mailmon.example.com"}, "--external-url: \"mailmon.example.com\" is not an http:// or https:// address"},
		{[]string{"--log-format", "xml"}, `--log-format: "xml" is neither text nor json`},
	} {
		code, _, errOut := runCLI(t, nil, append([]string{"serve", "--db", db, "--listen", "127.0.0.1:0"}, c.args...)...)
		if code != ExitUnknown || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want 3 and %q", c.args, code, errOut, c.want)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a refused serve made its database")
	}
}
