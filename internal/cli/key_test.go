package cli

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/ssh"

	"github.com/mailmon/mailmon/internal/storagekey"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/postgres"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/testutil/realpg"
	"github.com/mailmon/mailmon/internal/vault"
)

func TestMain(m *testing.M) { realpg.Main(m) }

const hookPath = "/services/T0/B0/hook-s3cret-path"

// secretsYAML has a secret of every kind: a monitor's password, a relay
// password, a webhook URL and a credential's password.
func secretsYAML(t *testing.T) string {
	t.Helper()
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	k, _ := ssh.NewPublicKey(pub)
	y := fmt.Sprintf(`credentials:
  - {name: root, user: root, password: root-pw-123, known_host: %q}
alerts:
  - {name: hook, webhook: {url: "https://hooks.example.test%s"}}
  - name: pager
    email: {to: [oncall@example.test], relay: {host: relay.example.test, port: 587, tls: starttls, user: a@example.test, password: relay-pw-123}}
devices:
  - name: mail1
    address: 127.0.0.1
    monitors:
      - {name: IMAP, type: imap, port: 993, tls: implicit, user: probe@example.test, password: mailbox-pw-123, notify: {alerts: [hook, pager]}}
`, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))), hookPath)
	path := filepath.Join(t.TempDir(), "mail.yaml")
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func keyFile(t *testing.T, dir, name, key string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// dump is every row of every table of a database, to compare before and
// after a command that must write nothing.
func dump(t *testing.T, db string) string {
	t.Helper()
	var b strings.Builder
	if postgres.IsURL(db) {
		c, err := pgx.Connect(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(context.Background())
		rows, _ := c.Query(context.Background(), `SELECT table_name FROM information_schema.tables WHERE table_schema='public' ORDER BY 1`)
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range tables {
			rows, _ := c.Query(context.Background(), `SELECT t::text FROM `+tb+` t ORDER BY 1`)
			rs, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s: %q\n", tb, rs)
		}
		return b.String()
	}
	c, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rows, err := c.Query(`SELECT name FROM sqlite_master WHERE type='table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	for _, tb := range tables {
		rows, err := c.Query(`SELECT * FROM "` + tb + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			rows.Scan(ptrs...)
			lines = append(lines, fmt.Sprint(vals...))
		}
		rows.Close()
		fmt.Fprintf(&b, "%s: %q\n", tb, lines)
	}
	return b.String()
}

// sealedUnder reports how many of the database's sealed values open
// under key, and how many there are.
func sealedUnder(t *testing.T, db, key string) (opened, all int) {
	t.Helper()
	var st store.Store
	var err error
	if postgres.IsURL(db) {
		st, err = postgres.Open(context.Background(), db)
	} else {
		st, err = sqlite.Open(context.Background(), db)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, _ := vault.New([]byte(key))
	xs, err := st.Sealed(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range xs {
		if _, err := v.Open(x.Value, vault.Record(x.Kind, x.ID, x.Name)); err == nil {
			opened++
		}
	}
	return opened, len(xs)
}

const keyA, keyB = "storage-key-A-0123456789abcdef", "storage-key-B-0123456789abcdef"

// TestWrongKeyRefused: serve, apply, export and key rotate refuse a key
// that is not the database's, say where it came from, and write nothing.
func TestWrongKeyRefused(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "m.db")
			if backend == "postgres" {
				db = realpg.NewDB(t)
			}
			cfg := secretsYAML(t)
			good := keyFile(t, dir, "good.key", keyA)
			if code, out, errOut := runCLI(t, nil, "apply", "--db", db, "--key-file", good, "-f", cfg); code != ExitOK {
				t.Fatalf("apply: %d %s %s", code, out, errOut)
			}
			before := dump(t, db)
			wrong := keyFile(t, dir, "wrong.key", keyB)
			for _, args := range [][]string{
				{"serve", "--listen", "127.0.0.1:0"},
				{"apply", "-f", cfg},
				{"export"},
				{"key", "rotate", "--new-key-file", filepath.Join(dir, "next.key")},
			} {
				for _, how := range []struct {
					env    map[string]string
					flags  []string
					origin string
				}{
					{nil, []string{"--key-file", wrong}, "the key file " + wrong},
					{map[string]string{vault.EnvVar: keyB}, nil, "$" + vault.EnvVar},
				} {
					code, out, errOut := runCLI(t, how.env, append(append(args, "--db", db), how.flags...)...)
					if code == ExitOK || !strings.Contains(errOut, "the storage key from "+how.origin+" is not the key") ||
						!strings.Contains(errOut, "nothing was changed") {
						t.Errorf("%s with %s: exit %d, %q %q", args[0], how.origin, code, out, errOut)
					}
				}
			}
			if after := dump(t, db); after != before {
				t.Errorf("a refused key changed the database:\nbefore %s\nafter  %s", before, after)
			}
			if _, err := os.Stat(filepath.Join(dir, "next.key")); err == nil {
				t.Error("a refused rotation wrote a new key")
			}
		})
	}
}

// TestMovedDatabaseWithoutItsKey: a SQLite database copied without its
// storage.key meets a key made just now, and says so.
func TestMovedDatabaseWithoutItsKey(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "m.db")
	if code, _, errOut := runCLI(t, nil, "apply", "--db", db, "-f", secretsYAML(t)); code != ExitOK {
		t.Fatal(errOut)
	}
	moved := filepath.Join(t.TempDir(), "m.db")
	b, _ := os.ReadFile(db)
	os.WriteFile(moved, b, 0o600)
	code, _, errOut := runCLI(t, nil, "export", "--db", moved)
	if code == ExitOK || !strings.Contains(errOut, "created just now") || !strings.Contains(errOut, "copy the original storage.key") {
		t.Errorf("export of a moved database: %d %q", code, errOut)
	}
}

// TestOlderDatabaseGetsItsVerifier: a database of an older mailmon (no
// verifier, webhook URLs in the clear) is refused under a wrong key with
// nothing written, and brought up to date under the right one.
func TestOlderDatabaseGetsItsVerifier(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "m.db")
	good := keyFile(t, dir, "good.key", keyA)
	cfg := secretsYAML(t)
	if code, _, errOut := runCLI(t, nil, "apply", "--db", db, "--key-file", good, "-f", cfg); code != ExitOK {
		t.Fatal(errOut)
	}
	// Back to how an older mailmon left it.
	c, _ := sql.Open("sqlite", "file:"+db)
	for _, q := range []string{`DELETE FROM meta`,
		`UPDATE alerts SET secrets='{}', spec='{"name":"hook","webhook":{"url":"https://hooks.example.test` + hookPath + `"}}' WHERE name='hook'`} {
		if _, err := c.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	before := dump(t, db)
	wrong := keyFile(t, dir, "wrong.key", keyB)
	if code, _, errOut := runCLI(t, nil, "apply", "--db", db, "--key-file", wrong, "-f", cfg); code == ExitOK || !strings.Contains(errOut, "stored secrets opens") {
		t.Errorf("apply with a wrong key: %d %q", code, errOut)
	}
	if dump(t, db) != before {
		t.Error("a refused key changed the database")
	}
	code, out, errOut := runCLI(t, nil, "export", "--db", db, "--key-file", good)
	if code != ExitOK || strings.Contains(out, "s3cret") {
		t.Errorf("export: %d %q %q", code, out, errOut)
	}
	if dump(t, db) != before {
		t.Error("export wrote to the database")
	}
	if code, _, errOut := runCLI(t, nil, "apply", "--db", db, "--key-file", good, "-f", cfg); code != ExitOK {
		t.Fatal(errOut)
	}
	after := dump(t, db)
	if !strings.Contains(after, "key_check") || strings.Contains(after, "s3cret") {
		t.Errorf("after a start with the right key, the verifier is missing or the webhook URL is in the clear:\n%s", after)
	}
	if opened, all := sealedUnder(t, db, keyA); opened != all || all != 5 {
		t.Errorf("%d of %d sealed values open", opened, all)
	}
}

func TestKeyRotateKeyFile(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			db, kf := filepath.Join(dir, "m.db"), filepath.Join(dir, "storage.key")
			var flags []string
			if backend == "postgres" {
				db = realpg.NewDB(t)
				keyFile(t, dir, "storage.key", keyA)
				flags = []string{"--key-file", kf}
			}
			if code, _, errOut := runCLI(t, nil, append([]string{"apply", "--db", db, "-f", secretsYAML(t)}, flags...)...); code != ExitOK {
				t.Fatal(errOut)
			}
			old, _ := os.ReadFile(kf)
			code, out, errOut := runCLI(t, nil, append([]string{"key", "rotate", "--db", db}, flags...)...)
			if code != ExitOK || !strings.Contains(out, "rotated 5 sealed values") {
				t.Fatalf("rotate: %d %q %q", code, out, errOut)
			}
			next, _ := os.ReadFile(kf)
			if string(next) == string(old) {
				t.Fatal("the key file did not change")
			}
			if opened, all := sealedUnder(t, db, strings.TrimSpace(string(next))); opened != all || all != 5 {
				t.Errorf("%d of %d sealed values open under the new key", opened, all)
			}
			if opened, _ := sealedUnder(t, db, strings.TrimSpace(string(old))); opened != 0 {
				t.Errorf("%d sealed values still open under the old key", opened)
			}
			if code, out, errOut := runCLI(t, nil, append([]string{"export", "--db", db}, flags...)...); code != ExitOK || strings.Contains(out, "s3cret") {
				t.Errorf("export after the rotation: %d %q", code, errOut)
			}
		})
	}
}

func TestKeyRotateFromTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "m.db")
	env := map[string]string{vault.EnvVar: keyA}
	if code, _, errOut := runCLI(t, env, "apply", "--db", db, "-f", secretsYAML(t)); code != ExitOK {
		t.Fatal(errOut)
	}
	if code, _, errOut := runCLI(t, env, "key", "rotate", "--db", db); code == ExitOK || !strings.Contains(errOut, "--new-key-file") {
		t.Errorf("without --new-key-file: %d %q", code, errOut)
	}
	next := filepath.Join(dir, "next.key")
	code, out, errOut := runCLI(t, env, "key", "rotate", "--db", db, "--new-key-file", next)
	if code != ExitOK || !strings.Contains(out, "set $MAILMON_SECRET_KEY to its content") {
		t.Fatalf("rotate: %d %q %q", code, out, errOut)
	}
	k, err := os.ReadFile(next)
	if fi, _ := os.Stat(next); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the new key file: %v %v", fi, err)
	}
	// The old key now meets a message that names where the new one is.
	code, _, errOut = runCLI(t, env, "export", "--db", db)
	if code == ExitOK || !strings.Contains(errOut, "sealed the database under the key in "+next) {
		t.Errorf("the old key after the rotation: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, map[string]string{vault.EnvVar: strings.TrimSpace(string(k))}, "export", "--db", db); code != ExitOK {
		t.Errorf("the new key: %d %q", code, errOut)
	}
}

// TestKeyRotateInterrupted: a rotation stopped between its steps leaves a
// database that one of the two keys opens, and the message says which; run
// again, it finishes.
func TestKeyRotateInterrupted(t *testing.T) {
	for _, stop := range []string{"side file written", "committed"} {
		t.Run(stop, func(t *testing.T) {
			dir := t.TempDir()
			db, kf := filepath.Join(dir, "m.db"), filepath.Join(dir, "storage.key")
			cfg := secretsYAML(t)
			if code, _, errOut := runCLI(t, nil, "apply", "--db", db, "-f", cfg); code != ExitOK {
				t.Fatal(errOut)
			}
			old, _ := os.ReadFile(kf)
			before := dump(t, db)
			var o strings.Builder
			r := rotation{env: Env{Stdout: &o, Stderr: &o, Getenv: func(string) string { return "" }}, db: &dbOptions{db: db}, now: time.Now,
				step: func(name string) error {
					if name == stop {
						return fmt.Errorf("crash at %s", name)
					}
					return nil
				}}
			if err := r.run(context.Background()); err == nil {
				t.Fatal("the rotation did not stop")
			}
			side, _ := os.ReadFile(storagekey.SideFile(kf))
			if now, _ := os.ReadFile(kf); string(now) != string(old) || len(side) == 0 {
				t.Fatalf("key file changed or no side file: %q %q", now, side)
			}
			code, _, errOut := runCLI(t, nil, "apply", "--db", db, "-f", cfg)
			switch stop {
			case "side file written":
				// Nothing committed: the old key opens everything.
				if dump(t, db) != before {
					t.Error("the database changed before the commit")
				}
				if code != ExitOK {
					t.Errorf("the old key after a rotation stopped before its commit: %q", errOut)
				}
			case "committed":
				if code == ExitOK || !strings.Contains(errOut, "interrupted") || !strings.Contains(errOut, storagekey.SideFile(kf)) {
					t.Errorf("the old key after a rotation stopped after its commit: %d %q", code, errOut)
				}
				if opened, all := sealedUnder(t, db, strings.TrimSpace(string(side))); opened != all {
					t.Errorf("%d of %d open under the side file's key", opened, all)
				}
			}
			code, out, errOut := runCLI(t, nil, "key", "rotate", "--db", db)
			if code != ExitOK {
				t.Fatalf("rotate again: %d %q %q", code, out, errOut)
			}
			if stop == "committed" && !strings.Contains(out, "finished an interrupted rotation") {
				t.Errorf("rotate again: %q", out)
			}
			if _, err := os.Stat(storagekey.SideFile(kf)); err == nil {
				t.Error("the side file is left")
			}
			now, _ := os.ReadFile(kf)
			if opened, all := sealedUnder(t, db, strings.TrimSpace(string(now))); opened != all || all != 5 {
				t.Errorf("%d of %d open under the key file's key", opened, all)
			}
			if code, _, errOut := runCLI(t, nil, "apply", "--db", db, "-f", cfg); code != ExitOK {
				t.Errorf("apply after the rotation: %q", errOut)
			}
		})
	}
}
