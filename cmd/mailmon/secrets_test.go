package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakeimap"
	"github.com/mailmon/mailmon/internal/testutil/fakepop3"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/nosecret"
	"github.com/mailmon/mailmon/internal/testutil/saslsrv"
)

// TestEchoedSecretsStayOutOfTheDaemon: a daemon (SQLite, API, webhook and
// e-mail alerts) tests servers that echo every credential they are sent and
// know. None of the secrets it was given, in any form, reaches the stored
// results, the API, /metrics, the alerts or the log.
func TestEchoedSecretsStayOutOfTheDaemon(t *testing.T) {
	const (
		box      = "box@example.test"
		boxPW    = "daemon-box-Pa55-2222"
		boxTok   = "ya29.daemon-box-token-3333"
		wrongPW  = "daemon-wrong-Pa55-1111"
		sender   = "sender@example.test"
		relayPW  = "daemon-relay-Pa55-5555"
		key      = "e2e-echo-installation-secret-0123456789"
		alertsTo = "oncall@example.test"
	)
	dir := t.TempDir()
	db := filepath.Join(dir, "mailmon.db")
	ca := certs.NewCA(t)
	tlsCfg := certs.ServerConfig(ca.Issue(t, certs.Leaf{}))
	caFile := ca.File(t)
	tokFile := filepath.Join(dir, "token")
	os.WriteFile(tokFile, []byte(boxTok+"\n"), 0o600)

	// Each monitor has servers of its own: a server echoes every secret it
	// knows, and a test's redactor knows that test's secrets, not another
	// monitor's. The servers of failing logins know other passwords.
	pop := fakepop3.Start(t, fakepop3.Options{Implicit: true, TLS: tlsCfg, Echo: true,
		Users: []fakepop3.User{{Name: box, Password: boxPW}}})
	popWrong := fakepop3.Start(t, fakepop3.Options{Implicit: true, TLS: tlsCfg, Echo: true, SASL: []string{"PLAIN"},
		Users: []fakepop3.User{{Name: box, Password: "pop3-server-only-Pa55"}}})
	imap := fakeimap.Start(t, fakeimap.Options{TLSConfig: tlsCfg, Implicit: true, Echo: true,
		Users: []fakeimap.User{{Name: box, Password: boxPW}}})
	imapWrong := fakeimap.Start(t, fakeimap.Options{TLSConfig: tlsCfg, Implicit: true, Echo: true,
		Users: []fakeimap.User{{Name: box, Password: "imap-server-only-Pa55"}}})
	smtpTok := fakesmtp.Start(t, fakesmtp.Options{TLS: tlsCfg, Echo: true,
		Accounts: saslsrv.Accounts{Tokens: map[string]string{box: boxTok}}})
	smtpWrong := fakesmtp.Start(t, fakesmtp.Options{TLS: tlsCfg, Echo: true,
		Accounts: saslsrv.Accounts{Passwords: map[string]string{box: "smtp-server-only-Pa55", sender: "smtp-server-only-Pa56"}}})
	relay := fakesmtp.Start(t, fakesmtp.Options{TLS: tlsCfg, Echo: true,
		Accounts: saslsrv.Accounts{Passwords: map[string]string{"alerts@example.test": "relay-server-only-Pa55"}}})
	var mu sync.Mutex
	var hooks []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hooks = append(hooks, string(b))
		mu.Unlock()
	}))
	defer rcv.Close()

	port := func(p int) string { return strconv.Itoa(p) }
	timing := `timing: {max_duration: 2s, up_every: 3s, down_every: 3s, lost_every: 3s}
        notify: {failures_per_alert: 1, max_alerts: 2, alerts: [hook, mail]}`
	cfg := filepath.Join(dir, "echo.yaml")
	os.WriteFile(cfg, []byte(`alerts:
  - name: hook
    webhook: {url: "`+rcv.URL+`", format: generic}
  - name: mail
    email:
      to: [`+alertsTo+`]
      relay: {host: 127.0.0.1, port: `+port(relay.Port)+`, tls: starttls, ca: "`+caFile+`",
              user: alerts@example.test, auth: PLAIN, password: {env: RELAY_PW}}
devices:
  - name: mail1
    address: 127.0.0.1
    monitors:
      - name: POP3 ok
        type: pop3
        port: `+port(pop.Port)+`
        tls: implicit
        ca: "`+caFile+`"
        user: `+box+`
        auth: USER
        password: {env: BOX_PW}
        stat: true
        `+timing+`
      - name: POP3 wrong
        type: pop3
        port: `+port(popWrong.Port)+`
        tls: implicit
        ca: "`+caFile+`"
        user: `+box+`
        auth: PLAIN
        password: {env: WRONG_PW}
        `+timing+`
      - name: IMAP wrong
        type: imap
        port: `+port(imapWrong.Port)+`
        tls: implicit
        ca: "`+caFile+`"
        user: `+box+`
        auth: LOGIN
        password: {env: WRONG_PW}
        `+timing+`
      - name: SMTP wrong
        type: smtp
        port: `+port(smtpWrong.Port)+`
        tls: starttls
        ca: "`+caFile+`"
        user: `+box+`
        auth: LOGIN
        password: {env: WRONG_PW}
        `+timing+`
      - name: SMTP token
        type: smtp
        port: `+port(smtpTok.Port)+`
        tls: starttls
        ca: "`+caFile+`"
        user: `+box+`
        auth: XOAUTH2
        oauth_token_file: "`+tokFile+`"
        `+timing+`
      - name: Round trip
        type: imap-roundtrip
        port: `+port(imap.Port)+`
        tls: implicit
        ca: "`+caFile+`"
        user: `+box+`
        password: {env: BOX_PW}
        smtp: {host: 127.0.0.1, port: `+port(smtpWrong.Port)+`, tls: starttls, ca: "`+caFile+`", user: `+sender+`,
               auth: PLAIN, password: {env: WRONG_PW}}
        from: `+sender+`
        to: `+box+`
        poll_interval: 500ms
        `+timing+`
`), 0o600)
	env := []string{"BOX_PW=" + boxPW, "WRONG_PW=" + wrongPW, "RELAY_PW=" + relayPW, "MAILMON_SECRET=" + key}
	if code, out, errOut, _ := mailmon(t, env, "apply", "-f", cfg, "--db", db); code != 0 {
		t.Fatalf("apply: %s%s", out, errOut)
	}
	_, tok, _, _ := mailmon(t, nil, "token", "create", "--name", "t", "--db", db)
	tok = strings.TrimSpace(tok)
	d := startDaemon(t, db, env)

	raw := func(path string) string {
		req, _ := http.NewRequest("GET", d.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	// Every monitor but the first fails; each has alerted, by webhook and
	// by e-mail (which the relay refuses, echoing), when the hooks number
	// five and the relay has seen ten AUTHs.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(hooks)
		mu.Unlock()
		auths := 0
		for _, c := range relay.Commands() {
			if strings.HasPrefix(c, "AUTH ") {
				auths++
			}
		}
		if n >= 4 && auths >= 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %d webhooks, %d AUTHs at the relay\n%s", n, auths, d.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	outputs := map[string]string{"GET /api/v1/monitors": raw("/api/v1/monitors"), "GET /metrics": raw("/metrics")}
	for id := 1; id <= 6; id++ {
		p := "/api/v1/monitors/" + strconv.Itoa(id) + "/results"
		outputs["GET "+p] = raw(p)
	}
	if err := d.stop(); err != nil {
		t.Errorf("serve: %v", err)
	}
	outputs["the log"] = d.stderr.String()
	mu.Lock()
	outputs["the webhooks"] = strings.Join(hooks, "\n")
	mu.Unlock()
	for _, m := range relay.Messages() {
		outputs["the e-mails"] += string(m.Data)
	}
	files, _ := filepath.Glob(db + "*")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		outputs["the database file "+filepath.Base(f)] = string(b)
	}

	forms := append(append(append(append(nosecret.Forms(box, boxPW, wrongPW, boxTok), nosecret.Forms(sender, wrongPW)...),
		nosecret.Forms("alerts@example.test", relayPW)...), key), receivedCredentials(t, pop, popWrong)...)
	for where, text := range outputs {
		nosecret.Check(t, where, text, forms)
	}
	// The servers did echo: the proof is in the results, redacted.
	if r := outputs["GET /api/v1/monitors/2/results"]; !strings.Contains(r, "you sent") || !strings.Contains(r, "[redacted]") {
		t.Errorf("the POP3 server's echo is not in its results:\n%s", r)
	}
	if !strings.Contains(outputs["the log"], "alert delivery failed") || !strings.Contains(outputs["the log"], "rejected") {
		t.Errorf("the relay's refusal is not in the log:\n%s", outputs["the log"])
	}
}

// receivedCredentials returns what the POP3 fakes received as credentials
// (a SASL payload, an APOP digest): nothing of it may show either.
func receivedCredentials(t *testing.T, pops ...*fakepop3.Server) []string {
	t.Helper()
	var out []string
	for _, pop := range pops {
		for _, c := range pop.Commands() {
			if f := strings.Fields(c.Line); c.Secret && len(f) > 1 {
				out = append(out, f[len(f)-1])
			}
		}
	}
	return out
}
