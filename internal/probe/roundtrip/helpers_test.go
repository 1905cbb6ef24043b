package roundtrip

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

func dump(r *probe.Result) string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}

func phaseNames(r *probe.Result) []string {
	var names []string
	for _, p := range r.Phases {
		names = append(names, p.Name)
	}
	return names
}

// noSecrets checks that no credential nor the installation secret, in
// clear or base64, is in the JSON of the result.
func noSecrets(t *testing.T, r *probe.Result, secrets ...string) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, string(testKey))
	for _, s := range slices.Clone(secrets) {
		secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte(s)))
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(string(b), s) {
			t.Errorf("the result holds the secret %q:\n%s", s, dump(r))
		}
	}
}

// attempts is the number of looks into the mailbox the result reports.
func attempts(t *testing.T, r *probe.Result) int {
	t.Helper()
	n, ok := r.Details["attempts"].(int)
	if !ok {
		t.Fatalf("no attempts in the details: %v", r.Details)
	}
	return n
}

// realRig is a round trip against the real Postfix and Dovecot: the mailbox
// leg on port in mode, the SMTP leg on smtpPort in smtpMode, with AUTH when
// smtpAuth.
type realRig struct {
	e          *realmail.Env
	user, pass string
	port       int
	mode       probe.TLSMode
	smtpPort   int
	smtpMode   probe.TLSMode
	smtpAuth   bool
}

func (c realRig) config(typ string, timeout time.Duration) probe.Config {
	smtp := &probe.Config{Host: "127.0.0.1", Port: c.smtpPort, TLS: c.smtpMode, CAFile: c.e.CAFile,
		ServerName: c.e.ServerName, EHLOName: "monitor.example.test"}
	from := "monitor@elsewhere.test"
	if c.smtpAuth {
		smtp.User, smtp.Password, smtp.Auth = c.e.User, probe.Password(c.e.Password), "PLAIN"
		from = c.e.User
	}
	return probe.Config{
		Type: typ, Host: "127.0.0.1", Port: c.port, TLS: c.mode, CAFile: c.e.CAFile,
		ServerName: c.e.ServerName, User: c.user, Password: probe.Password(c.pass), Timeout: timeout,
		SMTP: smtp, From: from, To: c.user, Monitor: strings.TrimSuffix(typ, "-roundtrip") + " real", InstallationKey: testKey,
		PollInterval: 500 * time.Millisecond,
	}
}

// imapWith is the imap-roundtrip type tested by p: its validation, another
// prober.
func imapWith(p probe.Prober) probe.Kind {
	k := IMAPKind()
	k.Probe = p
	return k
}
