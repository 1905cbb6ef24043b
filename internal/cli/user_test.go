package cli

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/mailmon/mailmon/internal/store/sqlite"
)

// userCLI runs "mailmon user …" with stdin (nil: a terminal that answers
// with answers, one per prompt).
func userCLI(t *testing.T, stdin string, answers []string, args ...string) (int, string) {
	t.Helper()
	var o bytes.Buffer
	env := Env{Stdout: &o, Stderr: &o, Getenv: func(string) string { return "" }, Stdin: strings.NewReader(stdin)}
	if answers != nil {
		env.ReadPassword = func(string) (string, error) {
			if len(answers) == 0 {
				return "", errors.New("no more answers")
			}
			a := answers[0]
			answers = answers[1:]
			return a, nil
		}
	}
	code := Main(context.Background(), append([]string{"user"}, args...), env)
	return code, o.String()
}

func TestUserCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "mailmon.db")
	if code, out := userCLI(t, "first password\n", nil, "add", "admin", "--db", db); code != ExitOK || !strings.Contains(out, "user admin added") {
		t.Fatalf("add from stdin: %d %s", code, out)
	}
	if code, out := userCLI(t, "another password\n", nil, "add", "admin", "--db", db); code == ExitOK || !strings.Contains(out, "exists") {
		t.Errorf("adding twice: %d %s", code, out)
	}
	if code, out := userCLI(t, "short\n", nil, "add", "bob", "--db", db); code == ExitOK || !strings.Contains(out, "at least 8") {
		t.Errorf("a short password: %d %s", code, out)
	}
	if code, out := userCLI(t, "", []string{"terminal password", "not the same"}, "add", "carol", "--db", db); code == ExitOK || !strings.Contains(out, "differ") {
		t.Errorf("passwords that differ: %d %s", code, out)
	}
	if code, out := userCLI(t, "", []string{"terminal password", "terminal password"}, "add", "carol", "--db", db); code != ExitOK {
		t.Errorf("add from the terminal: %d %s", code, out)
	}
	if code, out := userCLI(t, "", nil, "list", "--db", db); code != ExitOK || !strings.Contains(out, "admin\t") || !strings.Contains(out, "carol\t") || strings.Contains(out, "bob") {
		t.Errorf("list: %d %s", code, out)
	}
	if code, out := userCLI(t, "second password\n", nil, "passwd", "admin", "--db", db); code != ExitOK {
		t.Errorf("passwd: %d %s", code, out)
	}
	if code, out := userCLI(t, "", nil, "delete", "carol", "--db", db); code != ExitOK {
		t.Errorf("delete: %d %s", code, out)
	}
	if code, _ := userCLI(t, "", nil, "delete", "carol", "--db", db); code == ExitOK {
		t.Error("deleting a missing user succeeded")
	}
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.UserByName(context.Background(), "admin")
	if err != nil || bcrypt.CompareHashAndPassword([]byte(u.Hash), []byte("second password")) != nil {
		t.Errorf("admin's password is not the new one: %v", err)
	}
	if _, err := st.UserByName(context.Background(), "carol"); err == nil {
		t.Error("carol survived")
	}
}
