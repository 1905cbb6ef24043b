package apply

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

func credTestKeys(t *testing.T) (hostLine, keyPEM string) {
	t.Helper()
	hpub, _, _ := ed25519.GenerateKey(rand.Reader)
	hk, err := ssh.NewPublicKey(hpub)
	if err != nil {
		t.Fatal(err)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	b, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(hk))), string(pem.EncodeToMemory(b))
}

func parseString(t *testing.T, y string) *config.File {
	t.Helper()
	f, err := config.Parse("c.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func openSecret(t *testing.T, v *vault.Vault, c *store.Credential, name string) string {
	t.Helper()
	if c.Secrets[name] == "" {
		return ""
	}
	pt, err := v.Open(c.Secrets[name], vault.CredentialRecord(c.ID, name))
	if err != nil {
		t.Fatalf("%s/%s: %v", c.Name, name, err)
	}
	return string(pt)
}

func TestApplyCredentials(t *testing.T) {
	ctx := context.Background()
	s, v := setup(t)
	hk, key := credTestKeys(t)
	env := Env{
		Getenv: func(k string) string { return map[string]string{"ROOT_PW": "root-secret"}[k] },
		ReadFile: func(p string) ([]byte, error) {
			if p == "/etc/mailmon/id_ed25519" {
				return []byte(key), nil
			}
			return nil, os.ErrNotExist
		},
	}
	y := "credentials:\n" +
		"  - {name: root-pw, user: root, password: {env: ROOT_PW}, known_host: \"" + hk + "\"}\n" +
		"  - {name: ops-key, user: ops, key: {file: /etc/mailmon/id_ed25519}, known_host: \"" + hk + "\"}\n" +
		"devices:\n  - name: mail1\n    address: mail1.example\n    monitors:\n" +
		"      - name: SMTP\n        type: tcp\n        port: 25\n        recovery:\n" +
		"          - {command: [systemctl, restart, postfix], ssh: mail1.example, credential: ops-key}\n"

	rep, err := Apply(ctx, s, v, parseString(t, y), env)
	if err != nil {
		t.Fatal(err)
	}
	want := "credential root-pw created\ncredential ops-key created\ndevice mail1 created\nmonitor mail1/SMTP created\n"
	if got := actions(rep); got != want {
		t.Errorf("first apply:\n%s\nwant\n%s", got, want)
	}
	rp, _ := s.CredentialByName(ctx, "root-pw")
	ok, _ := s.CredentialByName(ctx, "ops-key")
	if strings.Contains(rp.Secrets["password"], "root-secret") || strings.Contains(ok.Secrets["key"], "PRIVATE KEY") || strings.Contains(string(rp.Spec), "root-secret") {
		t.Fatal("a secret is stored in the clear")
	}
	if got := openSecret(t, v, rp, "password"); got != "root-secret" {
		t.Errorf("password = %q", got)
	}
	if got := openSecret(t, v, ok, "key"); got != key {
		t.Errorf("the key file was not stored whole: %q", got)
	}
	if len(rp.Secrets) != 1 || len(ok.Secrets) != 1 {
		t.Errorf("secrets: %v %v", rp.Secrets, ok.Secrets)
	}

	rep, err = Apply(ctx, s, v, parseString(t, y), env)
	if err != nil || strings.Contains(actions(rep), "created") || strings.Contains(actions(rep), "updated") {
		t.Errorf("second apply changed something: %v\n%s", err, actions(rep))
	}

	// Export: no secrets, and it applies back changing nothing, keeping
	// the stored secrets.
	f, err := Export(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	out, err := config.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"root-secret", "PRIVATE KEY", "{env: ROOT_PW}", "id_ed25519"} {
		if strings.Contains(string(out), leak) {
			t.Errorf("the export has %q:\n%s", leak, out)
		}
	}
	for _, ph := range []string{"password: {env: MAILMON_SECRET_CREDENTIAL_ROOT_PW_PASSWORD}", "key: {env: MAILMON_SECRET_CREDENTIAL_OPS_KEY_KEY}"} {
		if !strings.Contains(string(out), ph) {
			t.Errorf("the export lacks %q:\n%s", ph, out)
		}
	}
	if !strings.Contains(string(out), hk) || !strings.Contains(string(out), "credential: ops-key") {
		t.Errorf("the export lacks the credential:\n%s", out)
	}
	rep, err = Apply(ctx, s, v, parseString(t, string(out)), env)
	if err != nil || strings.Contains(actions(rep), "created") || strings.Contains(actions(rep), "updated") {
		t.Errorf("applying the export changed something: %v\n%s", err, actions(rep))
	}
	if again, _ := s.CredentialByName(ctx, "root-pw"); openSecret(t, v, again, "password") != "root-secret" {
		t.Error("the export's apply lost the password")
	}

	// Switching root-pw to a key drops its password.
	y2 := strings.Replace(y, "password: {env: ROOT_PW}", "key: {file: /etc/mailmon/id_ed25519}", 1)
	rep, err = Apply(ctx, s, v, parseString(t, y2), env)
	if err != nil || !strings.Contains(actions(rep), "credential root-pw updated") {
		t.Fatalf("switch to a key: %v\n%s", err, actions(rep))
	}
	rp, _ = s.CredentialByName(ctx, "root-pw")
	if _, has := rp.Secrets["password"]; has || openSecret(t, v, rp, "key") != key {
		t.Errorf("after the switch: %v", rp.Secrets)
	}
}

func TestApplyCredentialProblems(t *testing.T) {
	ctx := context.Background()
	s, v := setup(t)
	hk, _ := credTestKeys(t)
	env := Env{
		Getenv:   func(string) string { return "" },
		ReadFile: func(p string) ([]byte, error) { return []byte("-----BEGIN NOT A KEY-----\n"), nil },
	}
	y := "credentials:\n" +
		"  - {name: new, user: u, known_host: \"" + hk + "\"}\n" +
		"  - {name: bad-key, user: u, key: {file: /k}, known_host: \"" + hk + "\"}\n" +
		"  - {name: no-env, user: u, password: {env: NOPE}, known_host: \"" + hk + "\"}\n"
	rep, err := Apply(ctx, s, v, parseString(t, y), env)
	var ps config.Problems
	if !errors.As(err, &ps) || len(rep) != 0 {
		t.Fatalf("want problems and nothing written, got %v\n%s", err, actions(rep))
	}
	for _, want := range []string{
		"credentials[0].password: a new credential needs a password or a key",
		"credentials[1].key: not a PEM private key",
		"credentials[2].password: environment variable NOPE is not set",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if list, n, err := s.Credentials(ctx, store.Page{}); err != nil || n != 0 {
		t.Errorf("stored %v, %v", list, err)
	}
}
