package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// TestExportApplyToANewDatabase: "mailmon export | mailmon apply -f -"
// into a new database fails naming each placeholder while they are unset,
// and works once they are set.
func TestExportApplyToANewDatabase(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	b, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"MAILMON_SECRET_KEY": "cli-test-storage-key-0123456789",
		"MAIL_OPS_SSH_KEY": string(pem.EncodeToMemory(b)), "CHAT_WEBHOOK_URL": "https://hooks.example.test/x",
		"RELAY_PASSWORD": "relay-pw", "PROBE_PASSWORD": "probe-pw", "M365_CLIENT_SECRET": "m365-secret", "M365_SMTP_CLIENT_SECRET": "m365-smtp-secret", "GOOGLE_SA_KEY": `{"type": "service_account"}`,
		"TICKETS_URL": "https://tickets.example.test/x", "TICKETS_AUTH": "Bearer t", "PD_ROUTING_KEY": "pd-routing-key-0123456789abcdef", "OPSGENIE_KEY": "og-key",
		"TEAM_URL": "gotify://gotify.example.test/AgotifyT0ken.xy", "DQS_KEY": "dqskey0123456789"}
	dir := t.TempDir()
	one, two := filepath.Join(dir, "one.db"), filepath.Join(dir, "two.db")
	if code, _, errOut := runCLI(t, env, "apply", "-f", "../../docs/mail.yaml", "--db", one); code != ExitOK {
		t.Fatalf("apply docs/mail.yaml: exit %d: %s", code, errOut)
	}
	code, exported, errOut := runCLI(t, env, "export", "--db", one)
	if code != ExitOK || !strings.HasPrefix(exported, "# mailmon export") {
		t.Fatalf("export: exit %d: %s%s", code, exported, errOut)
	}
	names := regexp.MustCompile(`(?m)^#   (MAILMON_SECRET_\w+)$`).FindAllStringSubmatch(exported, -1)
	if len(names) != 19 {
		t.Fatalf("%d placeholders listed:\n%s", len(names), exported)
	}
	apply := func(env map[string]string) (int, string) {
		var o, e bytes.Buffer
		code := Main(context.Background(), []string{"apply", "-f", "-", "--db", two},
			Env{Stdin: strings.NewReader(exported), Stdout: &o, Stderr: &e, Getenv: func(k string) string { return env[k] }})
		return code, e.String()
	}
	code, errOut = apply(map[string]string{"MAILMON_SECRET_KEY": "another-storage-key-0123456789"})
	for _, n := range names {
		if !strings.Contains(errOut, "environment variable "+n[1]+" is not set") {
			t.Errorf("exit %d; %s is not named in\n%s", code, n[1], errOut)
		}
	}
	set := map[string]string{"MAILMON_SECRET_KEY": "another-storage-key-0123456789"}
	for _, n := range names {
		switch {
		case strings.HasSuffix(n[1], "_DQS_KEY"): // letters and digits
			set[n[1]] = env["DQS_KEY"]
		case strings.HasSuffix(n[1], "_KEY"):
			set[n[1]] = env["MAIL_OPS_SSH_KEY"]
		case n[1] == "MAILMON_SECRET_ALERT_TEAM_URL": // a service's URL
			set[n[1]] = env["TEAM_URL"]
		case strings.HasSuffix(n[1], "_URL"):
			set[n[1]] = env["CHAT_WEBHOOK_URL"]
		default:
			set[n[1]] = "a-password"
		}
	}
	if code, errOut := apply(set); code != ExitOK {
		t.Fatalf("apply with the placeholders set: exit %d: %s", code, errOut)
	}
	if _, again, _ := runCLI(t, set, "export", "--db", two); again != exported {
		t.Errorf("the new database exports\n%s\nwant\n%s", again, exported)
	}
}
