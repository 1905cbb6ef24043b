package config

import (
	"crypto/ed25519"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// hostKeyLine is a fixed ed25519 public key in authorized_keys format.
func hostKeyLine(t *testing.T) string {
	t.Helper()
	pub, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public())
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
}

func TestCredentialsParse(t *testing.T) {
	hk := hostKeyLine(t)
	y := "credentials:\n" +
		"  - {name: root-pw, user: root, password: {env: ROOT_PW}, known_host: \"" + hk + "\"}\n" +
		"  - {name: ops-key, user: ops, key: {file: /etc/mailmon/id_ed25519}, known_host: \"" + hk + "\"}\n" +
		"devices:\n  - name: a\n    address: h\n    monitors:\n" +
		"      - name: m\n        type: tcp\n        port: 25\n        recovery:\n" +
		"          - {command: [systemctl, restart, postfix], ssh: \"ops@mail1.example:2222\", credential: ops-key, timeout: 30s}\n" +
		"          - {command: [reboot], ssh: \"[2001:db8::1]\", credential: root-pw}\n" +
		"          - {command: [/usr/local/bin/fix]}\n"
	f, err := Parse("c.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Credentials) != 2 || f.Credentials[0].Password.Env != "ROOT_PW" || f.Credentials[1].Key.File != "/etc/mailmon/id_ed25519" {
		t.Errorf("credentials: %+v", f.Credentials)
	}
	out, err := Marshal(f)
	// Where a secret is read from is written, never a secret.
	if err != nil || !strings.Contains(string(out), "password: {env: ROOT_PW}") || !strings.Contains(string(out), "key: {file: /etc/mailmon/id_ed25519}") || !strings.Contains(string(out), hk) {
		t.Fatalf("marshal (%v):\n%s", err, out)
	}
	if again, err := Parse("export.yaml", out); err != nil || len(again.Credentials) != 2 {
		t.Errorf("the export does not read back: %v", err)
	}
}

func TestCredentialProblems(t *testing.T) {
	hk := hostKeyLine(t)
	head := "devices:\n  - name: a\n    address: h\n    monitors:\n      - name: m\n        type: tcp\n        port: 25\n        recovery:\n"
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"no name", "credentials:\n  - {user: u, password: x, known_host: \"" + hk + "\"}\n",
			`c.yaml:2:5: credentials[0].name: a name is 1 to 64 characters on one line`},
		{"long name", "credentials:\n  - {name: " + strings.Repeat("n", 65) + ", user: u, password: x, known_host: \"" + hk + "\"}\n",
			`credentials[0].name: a name is 1 to 64 characters on one line`},
		{"twice", "credentials:\n  - {name: c, user: u, password: x, known_host: \"" + hk + "\"}\n  - {name: c, user: v, password: y, known_host: \"" + hk + "\"}\n",
			`c.yaml:3:6: credentials[1].name: credential "c" is defined twice`},
		{"no user", "credentials:\n  - {name: c, password: x, known_host: \"" + hk + "\"}\n",
			`credentials[0].user: a user name is required`},
		{"both", "credentials:\n  - {name: c, user: u, password: x, key: {file: /k}, known_host: \"" + hk + "\"}\n",
			`c.yaml:2:37: credentials[0].key: a credential is a password or a key, not both`},
		{"no known host", "credentials:\n  - {name: c, user: u, password: x}\n",
			`credentials[0].known_host: the server's public host key is required`},
		{"bad known host", "credentials:\n  - {name: c, user: u, password: x, known_host: \"ssh-ed25519 notbase64\"}\n",
			`c.yaml:2:37: credentials[0].known_host: not a public key in authorized_keys format`},
		{"known_hosts line", "credentials:\n  - {name: c, user: u, password: x, known_host: \"mail1.example " + hk + "\"}\n",
			`credentials[0].known_host: one public key only, without "mail1.example" in front`},
		{"insecure", "credentials:\n  - {name: c, user: u, password: x, known_host: \"" + hk + "\", insecure: true}\n",
			`c.yaml:2:133: credentials[0]: unknown key "insecure"; valid keys: name, user, password, key, known_host`},
		{"ssh without credential", head + "          - {command: [x], ssh: h}\n",
			`c.yaml:9:13: devices[0].monitors[0].recovery[0].credential: is required for a recovery over SSH`},
		{"credential without ssh", head + "          - {command: [x], credential: c}\n",
			`devices[0].monitors[0].recovery[0].ssh: is required when a credential is given`},
		{"unknown credential", head + "          - {command: [x], ssh: h, credential: nobody}\n",
			`c.yaml:9:36: devices[0].monitors[0].recovery[0].credential: no credential is named "nobody"`},
		{"no command", "credentials:\n  - {name: c, user: u, password: x, known_host: \"" + hk + "\"}\n" + head + "          - {ssh: h, credential: c}\n",
			`devices[0].monitors[0].recovery[0].command: the program and its arguments are required`},
		{"other user", "credentials:\n  - {name: c, user: u, password: x, known_host: \"" + hk + "\"}\n" + head + "          - {command: [x], ssh: root@h, credential: c}\n",
			`devices[0].monitors[0].recovery[0].ssh: user "root" is not credential "c"'s user "u"`},
		{"bad port", "credentials:\n  - {name: c, user: u, password: x, known_host: \"" + hk + "\"}\n" + head + "          - {command: [x], ssh: \"h:70000\", credential: c}\n",
			`recovery[0].ssh: "h:70000": port "70000" is not between 1 and 65535`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("want %q in:\n%v", tc.want, err)
			}
		})
	}
}

func TestSecretResolveAllReadsTheWholeFile(t *testing.T) {
	pem := "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n"
	read := func(string) ([]byte, error) { return []byte(pem), nil }
	if v, err := (SecretRef{File: "/k"}).ResolveAll(nil, read); err != nil || v != pem {
		t.Errorf("ResolveAll = %q, %v", v, err)
	}
	if v, _ := (SecretRef{Value: "lit"}).ResolveAll(nil, read); v != "lit" {
		t.Errorf("literal: %q", v)
	}
}
