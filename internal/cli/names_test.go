package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
)

// TestNamesRefuseHiddenCharacters: token, user and applied names refuse a
// control or text-direction character; names stored before that rule are
// listed with the character shown as U+FFFD, never sent to the terminal.
func TestNamesRefuseHiddenCharacters(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "mailmon.db")
	for _, name := range []string{"ci\x1b]0;owned\x07", "ci\u202epiws", "ci\u009b"} {
		code, _, errOut := runCLI(t, nil, "token", "create", "--name", name, "--db", db)
		if code == ExitOK || !strings.Contains(errOut, "token create: --name: character 3 of the name is U+") {
			t.Errorf("token %q: exit %d, %s", name, code, errOut)
		}
		code, out := userCLI(t, "a good password\n", nil, "add", name, "--db", db)
		if code == ExitOK || !strings.Contains(out, "user name: character 3 of the name is U+") {
			t.Errorf("user %q: exit %d, %s", name, code, out)
		}
	}
	cfg := filepath.Join(dir, "mail.yaml")
	os.WriteFile(cfg, []byte("devices:\n  - name: \"mail\\u202e1\"\n    address: 127.0.0.1\n"), 0o600)
	if code, _, errOut := runCLI(t, map[string]string{"MAILMON_SECRET_KEY": "cli-test-storage-key-0123456789"}, "apply", "-f", cfg, "--db", db); code == ExitOK ||
		!strings.Contains(errOut, cfg+":2:5: devices[0].name: character 5 of the name is U+202E") {
		t.Errorf("apply: exit %d, %s", code, errOut)
	}

	// Names an older version let in.
	ctx := context.Background()
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	st.PutToken(ctx, &store.Token{Name: "old\x1b[2J\u202etoken", Hash: "h"})
	st.PutUser(ctx, &store.User{Name: "old\u2066user", Hash: "h"})
	st.Close()
	_, out, _ := runCLI(t, nil, "token", "list", "--db", db)
	_, users := userCLI(t, "", nil, "list", "--db", db)
	for _, got := range []string{out, users} {
		if strings.ContainsAny(got, "\x1b\u202e\u2066") {
			t.Errorf("a hidden character reached the terminal: %q", got)
		}
	}
	if !strings.Contains(out, "old\uFFFD[2J\uFFFDtoken\t") || !strings.Contains(users, "old\uFFFDuser\t") {
		t.Errorf("lists: %q %q", out, users)
	}
}
