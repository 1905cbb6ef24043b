package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
	"github.com/mailmon/mailmon/internal/testutil/realpg"
	"github.com/mailmon/mailmon/internal/testutil/saslsrv"
)

// The test binary doubles as mailmon: run with MAILMON_RUN_MAIN=1 it is the
// command, so the tests below run it as a user would, in its own process.
func TestMain(m *testing.M) {
	if os.Getenv("MAILMON_RUN_MAIN") == "1" {
		main()
		return
	}
	code := m.Run()
	realmail.Stop()
	realpg.Stop()
	os.Exit(code)
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

// TestCheckAgainstRealServers is the issue's "done when": the commands a new
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
	// The process, start-up included, ends soon after the deadline: the
	// dripping greeting alone would take 9 s. The margin is the process's
	// start-up and exit on a loaded machine (0.5 s was seen overrun by 5 ms).
	if took > 1500*time.Millisecond+3*time.Second {
		t.Errorf("took %v with --timeout 1.5", took)
	}
}

func TestUsageErrorExit3(t *testing.T) {
	code, out, errOut, _ := mailmon(t, nil, "check", "smtp", "--port", "25")
	// A plug-in's usage error is its status line: on stdout, where the
	// monitoring system shows it.
	if code != 3 || errOut != "" || !strings.HasPrefix(out, "SMTP UNKNOWN - --host: is required") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestRoundTripCheck: the round trips as a user runs them against real
// Postfix and Dovecot.
func TestRoundTripCheck(t *testing.T) {
	e := realmail.Start(t)
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte(e.Password+"\n"), 0o600)
	secretFile := filepath.Join(dir, "secret")
	os.WriteFile(secretFile, []byte("a-test-installation-secret-0123456789"), 0o600)
	common := []string{"--host", "127.0.0.1", "--user", e.User, "--password-file", pwFile, "--ca", e.CAFile,
		"--servername", e.ServerName, "--smtp-port", strconv.Itoa(e.SMTP), "--secret-file", secretFile, "--timeout", "20s"}

	code, out, errOut, _ := mailmon(t, nil, append([]string{"check", "imap-roundtrip", "--port", strconv.Itoa(e.IMAPS), "--tls", "implicit", "--output", "json"}, common...)...)
	var r probe.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 || r.Status != probe.StatusUp || r.Delivery <= 0 || r.Delivery > 5*time.Second {
		t.Fatalf("imap-roundtrip: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	if strings.Contains(errOut, "waiting for the probe") {
		t.Errorf("progress written without a terminal: %q", errOut)
	}
	code, out, errOut, _ = mailmon(t, nil, append([]string{"check", "pop3-roundtrip", "--port", strconv.Itoa(e.POP3), "--tls", "starttls", "--smtp-tls", "starttls"}, common...)...)
	if code != 0 || !strings.HasPrefix(out, "POP3-ROUNDTRIP OK - 127.0.0.1:") || !strings.Contains(out, "probe delivered in") || !strings.Contains(out, " delivery=") {
		t.Fatalf("pop3-roundtrip: exit %d\n%s%s", code, out, errOut)
	}
	// Nothing of the probes is left in the mailbox.
	if ents, _ := os.ReadDir(filepath.Join(e.Maildir(e.User), "new")); len(ents) != 0 {
		t.Errorf("%d messages left in new/", len(ents))
	}
	code, out, _, _ = mailmon(t, nil, append([]string{"check", "imap-roundtrip", "--port", strconv.Itoa(e.IMAPS), "--tls", "implicit", "--to", "nobody@example.test"}, common...)...)
	if code != 2 || !strings.Contains(out, "send_rejected") {
		t.Errorf("unknown recipient: exit %d\n%s", code, out)
	}
	// The receiving server's Authentication-Results: the harness's
	// Postfix says dmarc=fail for this EHLO name.
	imap := append([]string{"check", "imap-roundtrip", "--port", strconv.Itoa(e.IMAPS), "--tls", "implicit", "--ehlo", realmail.EHLOAuthDMARCFail}, common...)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 1, "IMAP-ROUNDTRIP WARNING - 127.0.0.1:"},
		{[]string{"--auth-results", "warn", "--auth-results-id", e.AuthServID}, 1, "(DMARC fail at " + e.AuthServID + ": the probe's From domain is not aligned"},
		{[]string{"--auth-results", "critical"}, 2, "IMAP-ROUNDTRIP CRITICAL - "},
		{[]string{"--auth-results", "ignore"}, 0, "IMAP-ROUNDTRIP OK - "},
		{[]string{"--auth-results-methods", "spf,dkim"}, 0, "IMAP-ROUNDTRIP OK - "},
		{[]string{"--auth-results", "sometimes"}, 3, `IMAP-ROUNDTRIP UNKNOWN - --auth-results: "sometimes" is not one of warn, ignore, down`},
	} {
		code, out, errOut, _ := mailmon(t, nil, append(slices.Clone(imap), tc.args...)...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d (want %d)\n%s%s\nwant %q", tc.args, code, tc.code, out, errOut, tc.want)
		}
	}
	code, out, _, _ = mailmon(t, nil, "check", "smtp", "--host", "127.0.0.1", "--port", strconv.Itoa(e.SMTP), "--auth-results", "warn")
	if code != 3 || !strings.Contains(out, "--auth-results: applies to round trips only") {
		t.Errorf("--auth-results on smtp: exit %d\n%s", code, out)
	}
}

// TestDaemonCommands: apply, token, serve, the API, export, as a user runs
// them, against real Postfix and Dovecot.
func TestDaemonCommands(t *testing.T) {
	e := realmail.Start(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "mailmon.db")
	cfg := filepath.Join(dir, "mail.yaml")
	os.WriteFile(cfg, []byte(`devices:
  - name: mail1
    address: 127.0.0.1
    monitors:
      - name: SMTP
        type: smtp
        port: `+strconv.Itoa(e.SMTP)+`
        tls: starttls
        ca: `+e.CAFile+`
        servername: localhost
        timing: {max_duration: 5s, up_every: 10s}
      - name: IMAP login
        type: imap
        port: `+strconv.Itoa(e.IMAPS)+`
        tls: implicit
        ca: `+e.CAFile+`
        servername: localhost
        user: `+e.User+`
        password: {env: PROBE_PW}
        depends_on: [SMTP]
        timing: {max_duration: 5s, up_every: 10s}
`), 0o600)
	env := []string{"PROBE_PW=" + e.Password, "MAILMON_SECRET=test-installation-secret-0123456789"}
	code, out, errOut, _ := mailmon(t, env, "apply", "-f", cfg, "--db", db)
	if code != 0 || !strings.Contains(out, "monitor mail1/IMAP login: created") {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _, _ := mailmon(t, env, "apply", "-f", cfg, "--db", db); code != 0 || strings.Contains(out, "created") || strings.Contains(out, "updated") {
		t.Errorf("apply is not idempotent:\n%s", out)
	}
	code, tok, _, _ := mailmon(t, nil, "token", "create", "--name", "ci", "--db", db)
	tok = strings.TrimSpace(tok)
	if code != 0 || !strings.HasPrefix(tok, "mm_") {
		t.Fatalf("token create: %d %q", code, tok)
	}
	if code, out, _, _ := mailmon(t, nil, "export", "--db", db); code != 0 || strings.Contains(out, e.Password) || strings.Contains(out, "PROBE_PW") || !strings.Contains(out, "IMAP login") {
		t.Errorf("export: %d\n%s", code, out)
	}

	// serve, until it has tested both monitors.
	d := startDaemon(t, db, env)
	get := func(path, token string) (int, map[string]any) {
		var m map[string]any
		return d.get(path, token, &m), m
	}
	if code, _ := get("/api/v1/monitors", ""); code != http.StatusUnauthorized {
		t.Errorf("API without a token: %d", code)
	}
	if code, _ := get("/healthz", ""); code != http.StatusOK {
		t.Errorf("healthz: %d", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	var list map[string]any
	for time.Now().Before(deadline) {
		_, list = get("/api/v1/monitors?state=up", tok)
		if n, _ := list["total"].(float64); n == 2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n, _ := list["total"].(float64); n != 2 {
		t.Fatalf("monitors up after 10 s: %v\n%s", list, d.stderr.String())
	}
	if err := d.stop(); err != nil {
		t.Errorf("serve did not stop cleanly on SIGTERM: %v\n%s", err, d.stderr.String())
	}
	if strings.Contains(d.stderr.String(), e.Password) {
		t.Error("the password is in the daemon's log")
	}
}

// TestServeDemo is the README's run command: the demo mail server, its
// monitors tested at once, failures alerted on the console.
func TestServeDemo(t *testing.T) {
	cmd := exec.Command(os.Args[0], "serve", "--demo", "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "MAILMON_RUN_MAIN=1", "HOME="+t.TempDir())
	stdout, _ := cmd.StdoutPipe()
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var token, url string
	loopback := false // the demo says that targets set over the API may be loopback
	for token == "" || url == "" {
		select {
		case l := <-lines:
			loopback = loopback || strings.HasPrefix(l, "demo: monitors added through the web UI or API may target loopback")
			if tok, ok := strings.CutPrefix(l, "demo: API token (shown once): "); ok {
				token = tok
			}
			if u, ok := strings.CutPrefix(l, "mailmon listening on "); ok {
				url = strings.Fields(u)[0]
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no token and address printed\n%s", stderr.String())
		}
	}
	req, _ := http.NewRequest("POST", url+"/api/v1/devices", strings.NewReader(`{"name": "mine", "address": "127.0.0.1"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusCreated || !loopback {
		t.Errorf("a loopback device through the demo's API: %v %v; the demo said so: %v", resp, err, loopback)
	} else {
		resp.Body.Close()
	}
	states := func() map[string]string {
		req, _ := http.NewRequest("GET", url+"/api/v1/monitors", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var list struct {
			Items []struct{ Name, State string }
		}
		json.NewDecoder(resp.Body).Decode(&list)
		out := map[string]string{}
		for _, m := range list.Items {
			out[m.Name] = m.State
		}
		return out
	}
	// The console prints only this daemon's alerts: the receiver's path
	// holds a key of the run.
	forged := `{"event":"alert","monitor":"forged","device":"x","state":"down"}`
	for _, path := range []string{"/demo/alerts", "/demo/alerts/mm_0123"} {
		resp, err := http.Post(url+path, "application/json", strings.NewReader(forged))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: HTTP %d, want 404", path, resp.StatusCode)
		}
	}
	var alerts []string
	deadline := time.After(40 * time.Second)
	for {
		select {
		case l := <-lines:
			if strings.HasPrefix(l, "ALERT ") {
				alerts = append(alerts, l)
			}
			continue
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatalf("demo: states %v, alerts %v\n%s", states(), alerts, stderr.String())
		}
		st := states()
		if st["IMAP round trip"] == "up" && st["POP3 round trip"] == "up" && st["SMTP STARTTLS"] == "up" &&
			st["POP3 login"] == "up" && st["IMAP login"] == "up" && len(alerts) >= 2 &&
			(st["Wrong password (fails on purpose)"] == "down" || st["Wrong password (fails on purpose)"] == "lost") {
			break
		}
	}
	for _, want := range []string{"Wrong password (fails on purpose) on demo mail server is down (auth_failed",
		"Closed port (fails on purpose) on demo mail server is down (connect_failed"} {
		if !slices.ContainsFunc(alerts, func(a string) bool { return strings.Contains(a, want) }) {
			t.Errorf("no alert %q in %v", want, alerts)
		}
	}
	if slices.ContainsFunc(alerts, func(a string) bool { return strings.Contains(a, "forged") }) {
		t.Errorf("a forged alert was printed: %v", alerts)
	}
}

// TestCrashSafety: the daemon killed with SIGKILL while an alert is due
// and its receiver failing; restarted, the alert is delivered once, the
// recovery once, and the history is intact.
func TestCrashSafety(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "mailmon.db")
	var healthy, receiving atomic.Bool
	target := smtpTarget(t, &healthy)
	var mu sync.Mutex
	delivered := map[string]int{}
	var kinds []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !receiving.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		var p struct{ ID, Event, State string }
		json.NewDecoder(r.Body).Decode(&p)
		mu.Lock()
		delivered[p.ID]++
		kinds = append(kinds, p.Event+":"+p.State)
		mu.Unlock()
	}))
	defer rcv.Close()
	cfg := filepath.Join(dir, "crash.yaml")
	os.WriteFile(cfg, []byte(alertOnceYAML(rcv.URL, target.Port, "")), 0o600)
	env := []string{"MAILMON_SECRET=crash-test-installation-secret-0123"}
	if code, out, errOut, _ := mailmon(t, env, "apply", "-f", cfg, "--db", db); code != 0 {
		t.Fatalf("apply: %s%s", out, errOut)
	}
	_, tok, _, _ := mailmon(t, nil, "token", "create", "--name", "t", "--db", db)
	tok = strings.TrimSpace(tok)

	alertLog := func(d *daemon) []map[string]any {
		var out struct{ Items []map[string]any }
		d.get("/api/v1/monitors/1/alert-log", tok, &out)
		return out.Items
	}

	d := startNode(t, db, env, "--min-interval", "100ms") // down_every 200-300 ms
	deadline := time.Now().Add(10 * time.Second)
	for {
		l := alertLog(d)
		if len(l) == 1 && l[0]["status"] == "pending" && l[0]["attempts"].(float64) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed delivery attempt: %v", l)
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.kill()

	receiving.Store(true)
	healthy.Store(true)
	d = startNode(t, db, env, "--min-interval", "100ms") // down_every 200-300 ms
	deadline = time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		n := len(kinds)
		mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second) // room for a duplicate to show
	mu.Lock()
	defer mu.Unlock()
	if len(kinds) != 2 || kinds[0] != "alert:lost" || kinds[1] != "recovery:up" {
		t.Fatalf("received %v, want the alert then the recovery, once each", kinds)
	}
	for id, n := range delivered {
		if n != 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
	var ch struct{ Items []struct{ From, To string } }
	d.get("/api/v1/monitors/1/state-changes", tok, &ch)
	var path []string
	for i := len(ch.Items) - 1; i >= 0; i-- {
		path = append(path, ch.Items[i].To)
	}
	if strings.Join(path, ",") != "lost,up" {
		t.Errorf("history after the crash: %v", path)
	}
}

// alertOnceYAML is a monitor "SMTP" of port, tested every 300 ms while it
// fails, whose one alert goes to the webhook hookURL; more is more
// monitors of its device.
func alertOnceYAML(hookURL string, port int, more string) string {
	return `alerts:
  - name: hook
    webhook: {url: "` + hookURL + `"}
devices:
  - name: target
    address: 127.0.0.1
    monitors:
      - name: SMTP
        type: smtp
        port: ` + strconv.Itoa(port) + `
        timing: {max_duration: 2s, up_every: 3s, down_every: 300ms, lost_every: 300ms}
        notify: {failures_per_alert: 1, max_alerts: 1, alerts: [hook]}
` + more
}

// TestServeAlertsEndToEnd: monitors and alerts applied from YAML, served;
// a target that fails goes Warn → Down (alert) → Lost (last alert) and
// comes back (recovery), each told exactly once by webhook and by e-mail
// through a relay that wants STARTTLS and AUTH.
func TestServeAlertsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "mailmon.db")
	var healthy atomic.Bool
	healthy.Store(true)
	target := smtpTarget(t, &healthy)
	var mu sync.Mutex
	var hooks []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct{ Event, State string }
		json.NewDecoder(r.Body).Decode(&p)
		mu.Lock()
		hooks = append(hooks, p.Event+":"+p.State)
		mu.Unlock()
	}))
	defer rcv.Close()
	ca := certs.NewCA(t)
	relay := fakesmtp.Start(t, fakesmtp.Options{TLS: certs.ServerConfig(ca.Issue(t, certs.Leaf{})),
		Accounts: saslsrv.Accounts{Passwords: map[string]string{"alerts@example.test": "relay-secret"}}})
	cfg := filepath.Join(dir, "alerts.yaml")
	os.WriteFile(cfg, []byte(`alerts:
  - name: hook
    webhook: {url: "`+rcv.URL+`", format: generic}
  - name: mail
    email:
      to: [oncall@example.test]
      relay: {host: 127.0.0.1, port: `+strconv.Itoa(relay.Port)+`, tls: starttls, ca: "`+ca.File(t)+`",
              user: alerts@example.test, password: {env: RELAY_PW}}
devices:
  - name: mail1
    address: 127.0.0.1
    monitors:
      - name: SMTP
        type: smtp
        port: `+strconv.Itoa(target.Port)+`
        timing: {max_duration: 1s, up_every: 2s, down_every: 200ms, lost_every: 200ms}
        notify: {failures_per_alert: 2, max_alerts: 2, alerts: [hook, mail]}
`), 0o600)
	env := []string{"RELAY_PW=relay-secret", "MAILMON_SECRET=e2e-installation-secret-0123456789"}
	if code, out, errOut, _ := mailmon(t, env, "apply", "-f", cfg, "--db", db); code != 0 {
		t.Fatalf("apply: %s%s", out, errOut)
	}
	_, tok, _, _ := mailmon(t, nil, "token", "create", "--name", "t", "--db", db)
	tok = strings.TrimSpace(tok)
	d := startNode(t, db, env, "--min-interval", "100ms") // down_every 200-300 ms
	stateOf := func() string {
		var m struct{ State string }
		d.get("/api/v1/monitors/1", tok, &m)
		return m.State
	}
	wait := func(want string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for stateOf() != want {
			if time.Now().After(deadline) {
				t.Fatalf("never %s (now %s)\n%s", want, stateOf(), d.stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wait("up")
	healthy.Store(false)
	wait("lost")
	time.Sleep(time.Second) // failing on in Lost: no more alerts
	healthy.Store(true)
	wait("up")
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(hooks)
		mu.Unlock()
		if n >= 3 && len(relay.Messages()) >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	got := strings.Join(hooks, ",")
	mu.Unlock()
	if got != "alert:down,alert:lost,recovery:up" {
		t.Errorf("webhooks %s", got)
	}
	var subjects []string
	for _, m := range relay.Messages() {
		for _, l := range strings.Split(string(m.Data), "\r\n") {
			if s, ok := strings.CutPrefix(l, "Subject: "); ok {
				subjects = append(subjects, s)
			}
		}
		if m.User != "alerts@example.test" {
			t.Errorf("the relay saw no AUTH: %+v", m)
		}
	}
	if strings.Join(subjects, "|") != "[mailmon] SMTP on mail1 is down|[mailmon] SMTP on mail1 is lost|[mailmon] SMTP on mail1 is up" {
		t.Errorf("e-mails %q", subjects)
	}
	var ch struct{ Items []struct{ To string } }
	d.get("/api/v1/monitors/1/state-changes", tok, &ch)
	var path []string
	for i := len(ch.Items) - 1; i >= 0; i-- {
		path = append(path, ch.Items[i].To)
	}
	if strings.Join(path, ",") != "up,warn,down,lost,up" {
		t.Errorf("state changes %v", path)
	}
	if strings.Contains(d.stderr.String(), "relay-secret") {
		t.Error("the relay password is in the daemon's log")
	}
}
