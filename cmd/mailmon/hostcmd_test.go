package main

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCommandsGetAMinimalEnvironment: the daemon runs with its secrets in
// its environment (MAILMON_SECRET_KEY, MAILMON_SECRET) and a variable of
// ours; an alert command and a recovery command, set up with apply, see
// none of them: only PATH, LANG and the event's MAILMON_* tokens. The
// recovery's output is redacted (the monitor's password) and capped, in
// the recovery log and in the daemon's log.
func TestCommandsGetAMinimalEnvironment(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "mailmon.db")
	alertEnv, recoveryEnv := filepath.Join(dir, "alert.env"), filepath.Join(dir, "recovery.env")
	const password = "Pcmds-Monitor-Passw0rd"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().(*net.TCPAddr).Port
	l.Close()
	pwFile := filepath.Join(dir, "pw") // a script that prints a secret it knows
	os.WriteFile(pwFile, []byte("password="+password+"\n"), 0o600)
	cfg := filepath.Join(dir, "cmds.yaml")
	os.WriteFile(cfg, []byte(`alerts:
  - name: env
    command: {argv: [/bin/sh, -c, "env > `+alertEnv+`"]}
devices:
  - name: target
    address: 127.0.0.1
    monitors:
      - name: SMTP
        type: smtp
        port: `+strconv.Itoa(closed)+`
        user: probe@example.test
        password: {env: PCMDS_PROBE_PW}
        allow_plaintext_auth: true
        timing: {max_duration: 1s, up_every: 2s, down_every: 1s, lost_every: 1s}
        notify: {failures_per_alert: 1, max_alerts: 1, alerts: [env]}
        recovery:
          - command: [/bin/sh, -c, "env > `+recoveryEnv+`; cat `+pwFile+`; head -c 10000 /dev/zero | tr '\\0' x"]
`), 0o600)
	env := []string{"MAILMON_SECRET_KEY=pcmds-storage-key-0123456789abcdef", "MAILMON_SECRET=pcmds-installation-secret-0123456789",
		"PCMDS_PLANTED=planted-in-the-daemon", "PCMDS_PROBE_PW=" + password}
	if code, out, errOut, _ := mailmon(t, env, "apply", "-f", cfg, "--db", db); code != 0 {
		t.Fatalf("apply: %s%s", out, errOut)
	}
	_, tok, _, _ := mailmon(t, env, "token", "create", "--name", "t", "--db", db)
	tok = strings.TrimSpace(tok)
	d := startDaemon(t, db, env)

	read := func(path string) map[string]string {
		deadline := time.Now().Add(20 * time.Second)
		for {
			b, err := os.ReadFile(path)
			if err == nil && strings.Contains(string(b), "MAILMON_EVENT=") {
				vars := map[string]string{}
				for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
					k, v, _ := strings.Cut(line, "=")
					vars[k] = v
				}
				return vars
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s was not written: %v\n%s", path, err, d.stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// The event's tokens (alert.Env), PATH, LANG, and what sh adds itself.
	allowed := []string{"PATH", "LANG", "PWD", "OLDPWD", "SHLVL", "_", "MAILMON_EVENT", "MAILMON_EVENT_ID", "MAILMON_MONITOR", "MAILMON_MONITOR_ID",
		"MAILMON_DEVICE", "MAILMON_TYPE", "MAILMON_STATE", "MAILMON_ERROR_CODE", "MAILMON_ERROR_MESSAGE", "MAILMON_DETAIL",
		"MAILMON_RTT_MS", "MAILMON_TIME", "MAILMON_URL"}
	for name, file := range map[string]string{"alert": alertEnv, "recovery": recoveryEnv} {
		vars := read(file)
		for k, v := range vars {
			if !slices.Contains(allowed, k) {
				t.Errorf("the %s command's environment holds %s=%s", name, k, v)
			}
			for _, secret := range []string{"pcmds-storage-key", "pcmds-installation-secret", "planted-in-the-daemon", password} {
				if strings.Contains(v, secret) {
					t.Errorf("the %s command's %s holds the daemon's %q", name, k, secret)
				}
			}
		}
		if vars["PATH"] != "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" || vars["LANG"] != "C.UTF-8" ||
			vars["MAILMON_MONITOR"] != "SMTP" || vars["MAILMON_DEVICE"] != "target" || vars["MAILMON_EVENT"] == "" {
			t.Errorf("the %s command's environment lacks PATH, LANG or the event's tokens: %v", name, vars)
		}
	}

	var log struct {
		Items []struct{ Output, Status string }
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(log.Items) == 0 || log.Items[0].Output == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no recovery in the log: %+v", log)
		}
		time.Sleep(50 * time.Millisecond)
		d.get("/api/v1/monitors/1/recovery-log", tok, &log)
	}
	out := log.Items[0].Output
	if !strings.HasPrefix(out, "password=[redacted]\nxxx") || !strings.HasSuffix(out, "x…") || len(out) != 4096+len("…") {
		t.Errorf("recovery output (%d bytes): %.80q … %q", len(out), out, out[max(0, len(out)-40):])
	}
	d.stop()
	logs := d.stderr.String()
	if strings.Contains(logs, password) || !strings.Contains(logs, `password=[redacted]`) {
		t.Errorf("the daemon's log shows the recovery's output unredacted, or not at all:\n%s", logs)
	}
	if strings.Count(logs, "x") > 2*4096 {
		t.Error("the daemon's log holds more of the output than the cap")
	}
}
