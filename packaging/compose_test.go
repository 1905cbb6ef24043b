package main

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

type composeFile struct {
	Services map[string]struct {
		Build *struct {
			Context, Dockerfile string
		}
		Image       string
		Command     []string
		Secrets     []string
		Environment map[string]string
		Ports       []string
	}
	Secrets map[string]struct{ File string }
}

// compose.yaml's three nodes share one PostgreSQL and one storage key
// and installation secret, each from a secret the node is given, with
// flags that "mailmon serve" has.
func TestComposeFile(t *testing.T) {
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	pg := c.Services["postgres"]
	if f := pg.Environment["POSTGRES_PASSWORD_FILE"]; f != "/run/secrets/pg_password" || !slices.Contains(pg.Secrets, "pg_password") {
		t.Errorf("postgres: password file %q, secrets %q", f, pg.Secrets)
	}
	for name, s := range c.Secrets {
		if !strings.HasPrefix(s.File, "./secrets/") {
			t.Errorf("secret %s: %q, want a file under ./secrets/ (ignored by git)", name, s.File)
		}
	}
	var help string
	if d := os.Getenv("MAILMON_DIST"); d != "" {
		out, _ := exec.Command(filepath.Join(d, "bin", "mailmon"), "serve", "--help").CombinedOutput()
		help = string(out)
	}
	nodes, ports := map[string]bool{}, map[string]bool{}
	for _, n := range []string{"node-a", "node-b", "node-c"} {
		s, ok := c.Services[n]
		if !ok {
			t.Errorf("no service %s", n)
			continue
		}
		if s.Build == nil || s.Build.Context != ".." || s.Build.Dockerfile != "packaging/Dockerfile" {
			t.Errorf("%s: build %+v, want packaging/Dockerfile from the repository's root", n, s.Build)
		}
		if len(s.Command) == 0 || s.Command[0] != "serve" {
			t.Fatalf("%s: command %q", n, s.Command)
		}
		flags := map[string]string{}
		for i := 1; i+1 < len(s.Command); i += 2 {
			flags[s.Command[i]] = s.Command[i+1]
			// The help lists each flag as "  --NAME VALUE" (or "  --NAME" alone).
			if f := "\n  " + s.Command[i]; help != "" && !strings.Contains(help, f+" ") && !strings.Contains(help, f+"\n") {
				t.Errorf("%s: mailmon serve has no %s", n, s.Command[i])
			}
		}
		db, err := url.Parse(flags["--db"])
		if err != nil || db.Scheme != "postgres" || db.Host != "postgres:5432" || db.User.Username() != "mailmon" {
			t.Errorf("%s: --db %q", n, flags["--db"])
		} else if _, hasPW := db.User.Password(); hasPW {
			t.Errorf("%s: --db carries a password: it belongs in the pgpass secret", n)
		}
		for flag, want := range map[string]string{
			"--key-file": "/run/secrets/storage_key", "--secret-file": "/run/secrets/installation_secret",
			"--listen": "0.0.0.0:8080"} {
			if flags[flag] != want {
				t.Errorf("%s: %s %q, want %q", n, flag, flags[flag], want)
			}
		}
		if db != nil && db.Query().Get("passfile") != "/run/secrets/pgpass" {
			t.Errorf("%s: the database password is not read from the pgpass secret: %q", n, flags["--db"])
		}
		for _, sec := range []string{"storage_key", "installation_secret", "pgpass"} {
			if !slices.Contains(s.Secrets, sec) {
				t.Errorf("%s: not given the secret %s (has %q)", n, sec, s.Secrets)
			}
		}
		nodes[flags["--node"]] = true
		for _, p := range s.Ports {
			ports[p] = true
		}
	}
	if len(nodes) != 3 || nodes[""] || len(ports) != 3 {
		t.Errorf("nodes %v, ports %v: want three of each, distinct", nodes, ports)
	}
}
