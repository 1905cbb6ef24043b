package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakepop3"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/saslsrv"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(context.Background(), args, Env{Stdout: &o, Stderr: &e, Getenv: func(k string) string { return env[k] }})
	return code, o.String(), e.String()
}

func TestCheckNagios(t *testing.T) {
	ca := certs.NewCA(t)
	srv := fakesmtp.Start(t, fakesmtp.Options{TLS: certs.ServerConfig(ca.Issue(t, certs.Leaf{}))})
	code, out, errOut := runCLI(t, nil, "check", "smtp", "--host", srv.Host, "--port", strconv.Itoa(srv.Port), "--tls", "starttls", "--ca", ca.File(t))
	if code != ExitOK {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	re := regexp.MustCompile(`^SMTP OK - 127\.0\.0\.1:\d+ responded in \d+\.\d ms \(TLS1\.3\)\|time=\d+\.\d{6}s;;;0 connect=[\d.]+s;;;0 greeting=[\d.]+s;;;0 capabilities=[\d.]+s;;;0 starttls=[\d.]+s;;;0 tls=[\d.]+s;;;0 capabilities_tls=[\d.]+s;;;0 quit=[\d.]+s;;;0 cert_days_left=\d+;14:\n$`)
	if !re.MatchString(out) {
		t.Errorf("nagios output %q does not match %s", out, re)
	}
}

func TestCheckJSONAndPasswordSources(t *testing.T) {
	ca := certs.NewCA(t)
	srv := fakesmtp.Start(t, fakesmtp.Options{TLS: certs.ServerConfig(ca.Issue(t, certs.Leaf{})),
		Accounts: saslsrv.Accounts{Passwords: map[string]string{"u": "pw-from-file"}}})
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("pw-from-file\n"), 0o600)
	base := []string{"check", "smtp", "--host", srv.Host, "--port", strconv.Itoa(srv.Port), "--tls", "starttls", "--ca", ca.File(t), "--user", "u", "--output", "json"}

	code, out, _ := runCLI(t, nil, append(base, "--password-file", pwFile)...)
	var r probe.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != ExitOK || r.Status != probe.StatusUp || r.Auth != "PLAIN" {
		t.Fatalf("exit %d, %v: %s", code, err, out)
	}
	code, out, _ = runCLI(t, map[string]string{"PW": "wrong"}, append(base, "--password-env", "PW")...)
	if json.Unmarshal([]byte(out), &r); code != ExitCritical || r.Error == nil || r.Error.Code != probe.AuthFailed {
		t.Fatalf("wrong password: exit %d: %s", code, out)
	}
	if strings.Contains(out, "wrong") || strings.Contains(out, "pw-from-file") {
		t.Errorf("password in output: %s", out)
	}
}

func TestCheckUsageErrors(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("a-password\n"), 0o600)
	key := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(key, []byte("0123456789abcdef0123456789abcdef\n"), 0o600)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"check"}, "type is missing"},
		{[]string{"check", "smtpx", "--host", "h"}, `unknown type "smtpx"`},
		{[]string{"check", "smtp", "--bogus"}, "--bogus is not an option"},
		{[]string{"check", "smtp"}, "--host: is required"},
		{[]string{"check", "smtp", "--host", "h", "--tls", "ssl"}, "--tls: \"ssl\" is not one of"},
		{[]string{"check", "smtp", "--host", "h", "--timeout", "soon"}, "neither a number of seconds"},
		{[]string{"check", "smtp", "--host", "h", "--output", "xml"}, "--output"},
		{[]string{"check", "smtp", "--host", "h", "--tls", "starttls", "--user", "u", "--password-env", "NOPE"}, "NOPE is not set"},
		{[]string{"check", "smtp", "--host", "h", "--tls", "starttls", "--user", "u"}, "--password-file or --password-env: is required"},
		{[]string{"check", "tcp", "--host", "h", "extra"}, "unexpected argument"},
		// No credential of any form crosses tls none, a digest neither.
		{[]string{"check", "pop3", "--host", "h", "--user", "u", "--password-file", pw, "--auth", "APOP"}, "--allow-plaintext-auth: credentials would cross"},
		{[]string{"check", "pop3-roundtrip", "--host", "h", "--tls", "implicit", "--user", "u@example.com", "--password-file", pw,
			"--secret-file", key, "--smtp-user", "u", "--smtp-password-file", pw, "--smtp-auth", "CRAM-MD5"}, "--allow-plaintext-auth: credentials would cross"},
		{[]string{"nonsense"}, "unknown command"},
	}
	for _, tc := range tests {
		// A check's usage errors go to stdout, where a monitoring system
		// shows them (a plug-in's UNKNOWN); the other commands' to stderr.
		code, out, errOut := runCLI(t, nil, tc.args...)
		got, other := out, errOut
		if tc.args[0] != "check" {
			got, other = errOut, out
		}
		if code != ExitUnknown || !strings.Contains(got, tc.want) || other != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit 3 and %q", tc.args, code, errOut, out, tc.want)
		}
	}
}

// TestRoundTripProgressOnATerminal: waiting for the probe shows on stderr in
// a terminal, and nothing of it reaches the Nagios or JSON output.
func TestRoundTripProgressOnATerminal(t *testing.T) {
	pop := fakepop3.Start(t, fakepop3.Options{STLS: true, Users: []fakepop3.User{{Name: "box@example.test", Password: "pw"}}})
	smtp := fakesmtp.Start(t, fakesmtp.Options{OnData: func(fakesmtp.Message) {}}) // the probe is lost
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pw"), []byte("pw\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "secret"), []byte("cli-test-installation-secret-0123"), 0o600)
	args := []string{"check", "pop3-roundtrip", "--host", pop.Host, "--port", strconv.Itoa(pop.Port), "--tls", "starttls", "--ca", pop.CAFile,
		"--user", "box@example.test", "--password-file", filepath.Join(dir, "pw"), "--smtp-host", smtp.Host, "--smtp-port", strconv.Itoa(smtp.Port),
		"--secret-file", filepath.Join(dir, "secret"), "--timeout", "1500ms", "--poll-interval", "300ms"}
	for _, tty := range []bool{true, false} {
		var o, e bytes.Buffer
		code := Main(context.Background(), args, Env{Stdout: &o, Stderr: &e, Getenv: func(string) string { return "" }, IsTerminal: tty})
		if code != ExitCritical || !strings.Contains(o.String(), "not_delivered") {
			t.Fatalf("tty %v: exit %d\n%s%s", tty, code, o.String(), e.String())
		}
		if strings.Contains(o.String(), "waiting") {
			t.Errorf("progress in the Nagios output: %q", o.String())
		}
		if got := strings.Contains(e.String(), "waiting for the probe: attempt 2,"); got != tty {
			t.Errorf("tty %v: progress on stderr %v: %q", tty, got, e.String())
		}
	}
}

func TestApplyProblemsNamePositionAndField(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "mail.yaml")
	os.WriteFile(cfg, []byte("devices:\n  - name: mail1\n    address: 127.0.0.1\n    monitors:\n      - name: IMAP\n        type: imap\n        tls: implicit\n        user: probe@example.test\n        password: {env: PROBE_PW}\n"), 0o600)
	code, out, errOut := runCLI(t, map[string]string{"MAILMON_SECRET_KEY": "cli-test-storage-key-0123456789"}, "apply", "-f", cfg, "--db", filepath.Join(dir, "m.db"))
	want := cfg + ":9:9: devices[0].monitors[0].password: environment variable PROBE_PW is not set"
	if code != ExitCritical || !strings.Contains(errOut, want) || strings.Contains(out, "created") {
		t.Errorf("exit %d, stdout %q, stderr %q; want %q", code, out, errOut, want)
	}
}

// TestCheckInsecureSkipVerify: --insecure-skip-verify skips trust and name,
// not the dates: an expired certificate is CRITICAL (cert_invalid) all the
// same, and a certificate for another name passes with the mismatch shown.
func TestCheckInsecureSkipVerify(t *testing.T) {
	ca := certs.NewCA(t)
	check := func(cert tls.Certificate, output string) (int, string) {
		srv := fakesmtp.Start(t, fakesmtp.Options{TLS: certs.ServerConfig(cert)})
		code, out, _ := runCLI(t, nil, "check", "smtp", "--host", srv.Host, "--port", strconv.Itoa(srv.Port),
			"--tls", "starttls", "--insecure-skip-verify", "--output", output)
		return code, out
	}
	if code, out := check(ca.Expired(t), "nagios"); code != ExitCritical || !strings.HasPrefix(out, "SMTP CRITICAL") || !strings.Contains(out, "expired on") {
		t.Errorf("expired: exit %d: %s", code, out)
	}
	if code, out := check(ca.ExpiringIn(t, 2*24*time.Hour), "nagios"); code != ExitWarning || !strings.Contains(out, "certificate expires in 1 days") {
		t.Errorf("expiring in 2 days: exit %d: %s", code, out)
	}
	code, out := check(ca.OtherHost(t), "text")
	if code != ExitOK || !strings.Contains(out, "not for:   127.0.0.1 (the certificate names mail.other.example)") {
		t.Errorf("another host's certificate: exit %d:\n%s", code, out)
	}
	code, out = check(ca.OtherHost(t), "json")
	var r probe.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != ExitOK || r.TLS == nil || r.TLS.NameMismatch != "127.0.0.1" || r.TLS.Verified {
		t.Errorf("another host's certificate: exit %d, %v: %s", code, err, out)
	}
}

// TestApplyRefusesLargeFiles: a file over config.MaxFileSize is refused
// before it is read (a sparse file: reading it would take a while), and
// standard input is read no further than the limit.
func TestApplyRefusesLargeFiles(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(config.MaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	db := filepath.Join(dir, "m.db")
	code, out, errOut := runCLI(t, nil, "apply", "-f", big, "--db", db)
	if code == ExitOK || !strings.Contains(errOut, big+" is 64.0 MiB, more than the 64 MiB apply reads: split the configuration into several files") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	// A stream of comments longer than the limit: without the limit it
	// would parse as an empty file and apply nothing, successfully.
	comments := io.LimitReader(comment{}, config.MaxFileSize+64)
	var o, e bytes.Buffer
	code = Main(context.Background(), []string{"apply", "-f", "-", "--db", db}, Env{Stdin: comments, Stdout: &o, Stderr: &e, Getenv: func(string) string { return "" }})
	if code == ExitOK || !strings.Contains(e.String(), "standard input holds more than the 64 MiB apply reads") {
		t.Errorf("stdin: exit %d, stdout %q, stderr %q", code, o.String(), e.String())
	}
}

// comment reads as an endless YAML comment.
type comment struct{}

func (comment) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '#'
		if i%64 == 63 {
			p[i] = '\n'
		}
	}
	return len(p), nil
}

// TestFilesArePrivate: what apply creates (the database, the storage key
// beside it) only its owner can read.
func TestFilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	cfg := filepath.Join(t.TempDir(), "mail.yaml")
	os.WriteFile(cfg, []byte("devices:\n  - name: d\n    address: 127.0.0.1\n    monitors:\n      - {name: Ping, type: ping}\n"), 0o600)
	if code, out, errOut := runCLI(t, nil, "apply", "-f", cfg, "--db", filepath.Join(dir, "mailmon.db")); code != ExitOK {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, nil, "token", "create", "--name", "t", "--db", filepath.Join(dir, "mailmon.db")); code != ExitOK {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("the database's folder: %v, %v", fi.Mode(), err)
	}
	es, _ := os.ReadDir(dir)
	var names []string
	for _, e := range es {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, e.Name())
		if m := fi.Mode().Perm(); m&0o077 != 0 {
			t.Errorf("%s: mode %v, want no access for group and others", e.Name(), m)
		}
	}
	if !slices.Contains(names, "mailmon.db") || !slices.Contains(names, "storage.key") {
		t.Errorf("files %v, want mailmon.db and storage.key", names)
	}
}
