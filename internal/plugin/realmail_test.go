package plugin

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

func TestMain(m *testing.M) {
	runAsMailmon()
	realmail.Main(m)
}

// run is "mailmon check ARGS…" in this process.
func run(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Check(context.Background(), args, Env{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }})
	return code, out.String(), errOut.String()
}

// TestRealServers: exit codes and output for OK, WARNING, CRITICAL and
// UNKNOWN against the harness's Postfix and Dovecot, with the plug-ins'
// short options and with the long ones. The harness's certificate is valid
// for over a year, so -D 1000 is a WARNING and -D 1000,900 CRITICAL
// whatever the day.
func TestRealServers(t *testing.T) {
	e := realmail.Start(t)
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(e.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := func(p int) string { return strconv.Itoa(p) }
	tls := []string{"--ca", e.CAFile, "--servername", e.ServerName}
	env := map[string]string{"MAILPW": e.Password}
	tests := []struct {
		name string
		args []string
		code int
		want string // a regular expression the whole output must match
	}{
		{"smtp, the issue's command line", append([]string{"smtp", "-H", "127.0.0.1", "-p", port(e.SMTP), "-w", "2", "-c", "5", "-D", "30,14", "-S"}, tls...), OK,
			`^SMTP OK - 127\.0\.0\.1:\d+ responded in [\d.]+ ms \(TLS1\.[23]\)\|time=[\d.]+s;2;5;0 connect=.* cert_days_left=\d+;30:;14:\n$`},
		{"smtp, long options", append([]string{"smtp", "--hostname", "127.0.0.1", "--port", port(e.SMTP), "--warning", "2", "--critical=5", "--certificate", "30,14", "--starttls"}, tls...), OK,
			`^SMTP OK - .*\|time=[\d.]+s;2;5;0 .* cert_days_left=\d+;30:;14:\n$`},
		{"smtp, -D WARN: WARNING", append([]string{"smtp", "-H", "127.0.0.1", "-p", port(e.SMTP), "-S", "-D", "1000"}, tls...), Warning,
			`^SMTP WARNING - .*certificate.*\|time=.* cert_days_left=\d+;1000:\n$`},
		{"smtp, -D WARN,CRIT: CRITICAL", append([]string{"smtp", "-H", "127.0.0.1", "-p", port(e.SMTP), "-S", "--cert-warn-days", "1000", "--cert-crit-days", "900"}, tls...), Critical,
			`^SMTP CRITICAL - .*certificate expires in \d+ days \(\d{4}-\d\d-\d\d\), under 900: CRITICAL\|.* cert_days_left=\d+;1000:;900:\n$`},
		{"smtp, -w: WARNING", []string{"smtp", "-H", "127.0.0.1", "-p", port(e.SMTPNoTLS), "-w", "0.000001"}, Warning,
			`^SMTP WARNING - .*response time [\d.]+ s is over 0\.000001: WARNING\|time=[\d.]+s;0\.000001;;0 `},
		{"smtp, --critical: CRITICAL", []string{"smtp", "--host", "127.0.0.1", "--port", port(e.SMTPNoTLS), "--warning", "0.000001", "--critical", "0.000002"}, Critical,
			`^SMTP CRITICAL - .*is over 0\.000002: CRITICAL\|time=[\d.]+s;0\.000001;0\.000002;0 `},
		{"smtp, -S without STARTTLS: CRITICAL", []string{"smtp", "-H", "127.0.0.1", "-p", port(e.SMTPNoTLS), "-S"}, Critical,
			`^SMTP CRITICAL - 127\.0\.0\.1:\d+: tls_unavailable: `},
		{"smtp, -e: the greeting has it", []string{"smtp", "-H", "127.0.0.1", "-p", port(e.SMTPNoTLS), "-e", "ESMTP"}, OK, `^SMTP OK - `},
		{"smtp, -e: the greeting lacks it", []string{"smtp", "-H", "127.0.0.1", "-p", port(e.SMTPNoTLS), "--expect", "Exchange"}, Warning,
			`^SMTP WARNING - .*the greeting does not contain "Exchange"`},
		{"smtp submission, -U -A with a password file", append([]string{"smtp", "-H", "127.0.0.1", "-p", port(e.Submission), "-S", "-U", e.User, "-A", "PLAIN", "--password-file", pw, "-F", "monitor.example.test"}, tls...), OK,
			`^SMTP OK - .*\|time=`},
		{"pop3, short options", []string{"pop3", "-H", "127.0.0.1", "-p", port(e.POP3), "-U", e.User, "--password-env", "MAILPW", "--allow-plaintext-auth", "--stat", "-w", "5", "-c", "10"}, OK,
			`^POP3 OK - .*\|time=[\d.]+s;5;10;0 `},
		{"pop3, wrong user: CRITICAL", []string{"pop3", "-H", "127.0.0.1", "-p", port(e.POP3), "-U", "nobody@example.test", "--password-env", "MAILPW", "--allow-plaintext-auth"}, Critical,
			`^POP3 CRITICAL - .*auth_failed`},
		{"imap, implicit TLS, long options", append([]string{"imap", "--host", "127.0.0.1", "--port", port(e.IMAPS), "--tls", "implicit", "--user", e.User, "--password-file", pw, "--mailbox", "INBOX"}, tls...), OK,
			`^IMAP OK - .*\(TLS1\.[23]\)\|time=.* cert_days_left=\d+;14:\n$`},
		{"imap, -v: the conversation as long output", []string{"imap", "-H", "127.0.0.1", "-p", port(e.IMAP), "-v"}, OK,
			`^IMAP OK - [^\n|]*\n-- connected to [^\n]*\nS: \* OK[^\n]*\n(.*\n)*C: a1 LOGOUT\n(.*\n)*\|time=[^\n]*\n$`},
		{"bad range: UNKNOWN on stdout", []string{"smtp", "-H", "127.0.0.1", "-w", "5:1"}, Unknown,
			`^SMTP UNKNOWN - -w 5:1: the start is above the end\nUsage: `},
		{"bad option value, long", []string{"smtp", "-H", "127.0.0.1", "--certificate=30,x"}, Unknown, `^SMTP UNKNOWN - --certificate 30,x: "x" is not a number of days\n`},
		{"option without its value", []string{"smtp", "-H", "127.0.0.1", "-w"}, Unknown, `^SMTP UNKNOWN - -w needs a value\n`},
		{"a switch given a value", []string{"smtp", "-H", "127.0.0.1", "--starttls=yes"}, Unknown, `^SMTP UNKNOWN - --starttls is a switch: give it alone, not =yes\n`},
		{"-D CRIT above WARN", []string{"smtp", "-H", "127.0.0.1", "-D", "14,30"}, Unknown,
			`^SMTP UNKNOWN - -D 14,30: CRIT is more days than WARN, so WARN would never be seen: give -D 30,14\n`},
		{"no host: UNKNOWN on stdout", []string{"imap", "-p", port(e.IMAP)}, Unknown, `^IMAP UNKNOWN - --host: .*required`},
		{"unknown option", []string{"smtp", "-H", "127.0.0.1", "-Z"}, Unknown, `^SMTP UNKNOWN - -Z is not an option\n`},
		{"unknown long option", []string{"smtp", "-H", "127.0.0.1", "--bogus"}, Unknown, `^SMTP UNKNOWN - --bogus is not an option\n`},
		{"-h exits 3", []string{"smtp", "-h"}, Unknown, `^Usage: mailmon check TYPE -H HOST \[options\]\n(.*\n)*Exit codes: `},
		{"-V exits 3", []string{"-V"}, Unknown, `^mailmon \S+`},
	}
	if e.IPv6 {
		tests = append(tests, struct {
			name string
			args []string
			code int
			want string
		}{"smtp over IPv6", append([]string{"smtp", "-H", "::1", "-p", port(e.SMTP), "-S", "-w", "2"}, tls...), OK,
			`^SMTP OK - \[::1\]:\d+ responded in [\d.]+ ms \(TLS1\.[23]\)\|time=[\d.]+s;2;;0 `})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, env, tt.args...)
			if code != tt.code || !regexp.MustCompile(tt.want).MatchString(out) {
				t.Errorf("exit %d (want %d), stdout:\n%s\nstderr: %s\nwant %s", code, tt.code, out, errOut, tt.want)
			}
			if errOut != "" {
				t.Errorf("stderr %q: a plug-in says everything on stdout", errOut)
			}
			if strings.Contains(out, e.Password) {
				t.Error("the password is in the output")
			}
		})
	}
}
