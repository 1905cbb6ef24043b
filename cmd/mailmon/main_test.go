package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

// The test binary doubles as mailmon: run with MAILMON_RUN_MAIN=1 it is the
// command, so the tests below run it as a user would, in its own process.
func TestMain(m *testing.M) {
	if os.Getenv("MAILMON_RUN_MAIN") == "1" {
		main()
		return
	}
	realmail.Main(m)
}

func mailmon(t *testing.T, env []string, args ...string) (code int, stdout, stderr string, took time.Duration) {
	t.Helper()
	defer func() { t.Logf("mailmon %s → exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr) }()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "MAILMON_RUN_MAIN=1"), env...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	start := time.Now()
	err := cmd.Run()
	took = time.Since(start)
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), o.String(), e.String(), took
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, o.String(), e.String(), took
}

// TestCheckAgainstRealServers is the "done when": the commands a new
// user types, against real Postfix and Dovecot.
func TestCheckAgainstRealServers(t *testing.T) {
	e := realmail.Start(t)
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte(e.Password+"\n"), 0o600)
	port := func(p int) string { return strconv.Itoa(p) }
	tlsArgs := []string{"--ca", e.CAFile, "--servername", e.ServerName}

	t.Run("smtp starttls json", func(t *testing.T) {
		code, out, errOut, _ := mailmon(t, nil, append([]string{"check", "smtp", "--host", "127.0.0.1", "--port", port(e.SMTP), "--tls", "starttls", "--output", "json"}, tlsArgs...)...)
		var r probe.Result
		if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 {
			t.Fatalf("exit %d, %v\n%s%s", code, err, out, errOut)
		}
		if r.Status != probe.StatusUp || r.TLSMode != probe.TLSStartTLS || r.TLS == nil || r.TLS.Version != "TLS1.3" || r.TLS.DaysLeft < 300 || len(r.Phases) < 6 || r.RTT <= 0 {
			t.Errorf("result: %s", out)
		}
	})
	t.Run("pop3 implicit TLS with login, nagios", func(t *testing.T) {
		code, out, errOut, _ := mailmon(t, nil, append([]string{"check", "pop3", "--host", "127.0.0.1", "--port", port(e.POP3S), "--tls", "implicit", "--user", e.User, "--password-file", pwFile, "--stat"}, tlsArgs...)...)
		if code != 0 || !strings.HasPrefix(out, "POP3 OK - 127.0.0.1:"+port(e.POP3S)+" responded in ") || !strings.Contains(out, "(TLS1.3)|time=") || !strings.Contains(out, " auth=") || !strings.Contains(out, " stat=") {
			t.Errorf("exit %d: %s%s", code, out, errOut)
		}
	})
	t.Run("imap wrong password from the environment", func(t *testing.T) {
		code, out, _, _ := mailmon(t, []string{"PROBE_PW=not-the-password"}, append([]string{"check", "imap", "--host", "::1", "--port", port(e.IMAP), "--tls", "starttls", "--user", e.User, "--password-env", "PROBE_PW"}, tlsArgs...)...)
		if code != 2 || !strings.HasPrefix(out, "IMAP CRITICAL - [::1]:"+port(e.IMAP)+": auth_failed: The server rejected the credentials (server said: ") {
			t.Errorf("exit %d: %s", code, out)
		}
		if strings.Contains(out, "not-the-password") {
			t.Errorf("password in the output: %s", out)
		}
	})
	t.Run("required STARTTLS on a port without it", func(t *testing.T) {
		code, out, _, _ := mailmon(t, nil, "check", "smtp", "--host", "127.0.0.1", "--port", port(e.SMTPNoTLS), "--tls", "starttls")
		if code != 2 || !strings.Contains(out, "tls_unavailable") {
			t.Errorf("exit %d: %s", code, out)
		}
	})
	t.Run("self-signed certificate without --ca", func(t *testing.T) {
		code, out, _, _ := mailmon(t, nil, "check", "imap", "--host", "127.0.0.1", "--port", port(e.IMAPS), "--tls", "implicit", "--output", "text")
		if code != 2 || !strings.Contains(out, "error:     cert_invalid") || !strings.Contains(out, "expires:") {
			t.Errorf("exit %d: %s", code, out)
		}
	})
}

func TestCheckHostileServerWithinTimeout(t *testing.T) {
	srv := hostile.Start(t, func(c *hostile.Conn) { c.Drip("220 slow\r\n", time.Second) })
	code, out, _, took := mailmon(t, nil, "check", "smtp", "--host", srv.Host, "--port", strconv.Itoa(srv.Port), "--timeout", "1.5")
	if code != 2 || !strings.Contains(out, "SMTP CRITICAL") || !strings.Contains(out, ": timeout: ") {
		t.Errorf("exit %d: %s", code, out)
	}
	// The process, start-up included, ends soon after the deadline.
	if took > 1500*time.Millisecond+500*time.Millisecond {
		t.Errorf("took %v with --timeout 1.5", took)
	}
}

func TestUsageErrorExit3(t *testing.T) {
	code, out, errOut, _ := mailmon(t, nil, "check", "smtp", "--port", "25")
	if code != 3 || out != "" || !strings.Contains(errOut, "--host: is required") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
