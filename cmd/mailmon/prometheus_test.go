package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
	"github.com/mailmon/mailmon/internal/testutil/realprom"
	"github.com/mailmon/mailmon/internal/testutil/saslsrv"
)

// TestPrometheusScrapesMailmon is the "done when": a real
// Prometheus, configured as docs/prometheus.md says, scrapes a mailmon
// daemon's /metrics and uses its /probe, and its query API returns the
// series and values expected.
func TestPrometheusScrapesMailmon(t *testing.T) {
	_, err := realprom.Binary()
	realprom.Need(t, err)

	var healthy atomic.Bool
	healthy.Store(true)
	up := smtpTarget(t, &healthy)
	hang := hostile.Start(t, func(c *hostile.Conn) { c.Hang() })
	login := fakesmtp.Start(t, fakesmtp.Options{AllowInsecureAuth: true,
		Accounts: saslsrv.Accounts{Passwords: map[string]string{"u@example.test": "prom-s3cret"}}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close()

	dir := t.TempDir()
	db := filepath.Join(dir, "mailmon.db")
	cfg := filepath.Join(dir, "mail.yaml")
	os.WriteFile(cfg, []byte(`devices:
  - name: mail1
    address: 127.0.0.1
    monitors:
      - name: SMTP
        type: smtp
        port: `+strconv.Itoa(up.Port)+`
        timing: {max_duration: 2s, up_every: 3s}
      - name: Submission login
        type: smtp
        port: `+strconv.Itoa(login.Port)+`
        user: u@example.test
        password: {env: PROBE_PW}
        auth: PLAIN
        allow_plaintext_auth: true
        timing: {max_duration: 2s, up_every: 1h}
`), 0o600)
	env := []string{"PROBE_PW=prom-s3cret", "MAILMON_SECRET=test-installation-secret-0123456789"}
	if code, out, errOut, _ := mailmon(t, env, "apply", "-f", cfg, "--db", db); code != 0 {
		t.Fatalf("apply: %d\n%s%s", code, out, errOut)
	}
	code, tok, _, _ := mailmon(t, nil, "token", "create", "--name", "prometheus", "--db", db)
	if code != 0 {
		t.Fatalf("token create: %d", code)
	}
	tokFile := filepath.Join(dir, "mailmon.token")
	os.WriteFile(tokFile, []byte(strings.TrimSpace(tok)+"\n"), 0o600)
	// /probe tests servers on loopback; the SMTP monitor runs every 3 s.
	d := startNode(t, db, env, "--allow-targets", "127.0.0.1/32", "--min-interval", "1s")
	mm := strings.TrimPrefix(d.url, "http://")
	rules, err := filepath.Abs("../../docs/prometheus/mailmon-rules.yml")
	if err != nil {
		t.Fatal(err)
	}

	// The jobs of docs/prometheus/prometheus.yml, at a 1 s interval.
	probeJob := func(name, param string, params string, targets ...string) string {
		return `
  - job_name: ` + name + `
    metrics_path: /probe
    params: {` + params + `}
    authorization: {credentials_file: ` + tokFile + `}
    static_configs:
      - targets: ["` + strings.Join(targets, `", "`) + `"]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_` + param + `
      - source_labels: [__param_` + param + `]
        target_label: instance
      - target_label: __address__
        replacement: ` + mm + `
`
	}
	prom := realprom.Start(t, `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [`+rules+`]
scrape_configs:
  - job_name: mailmon
    authorization: {credentials_file: `+tokFile+`}
    static_configs:
      - targets: [`+mm+`]
  - job_name: mailmon-noauth
    static_configs:
      - targets: [`+mm+`]
`+probeJob("mailmon-smtp", "target", "type: [smtp]", up.Addr(), down, hang.Addr())+
		probeJob("mailmon-login", "monitor", "", "mail1/Submission login"))

	const wait = 15 * time.Second
	v := func(expr string, want float64) {
		t.Helper()
		prom.WaitFor(t, expr, wait, realprom.Value(want))
	}
	// /metrics: the daemon's monitors and its own health.
	v(`up{job="mailmon"}`, 1)
	v(`mailmon_monitor_up{job="mailmon",device="mail1",monitor="SMTP",type="smtp"}`, 1)
	v(`mailmon_monitor_state{job="mailmon",monitor="SMTP",state="up"}`, 1)
	prom.WaitFor(t, `mailmon_monitor_phase_seconds{job="mailmon",monitor="SMTP",phase="greeting"}`, wait, realprom.Present)
	prom.WaitFor(t, `mailmon_store_operation_seconds_count{job="mailmon",op="record_test"} > 0`, wait, realprom.Present)
	prom.WaitFor(t, `mailmon_scheduler_lag_seconds{job="mailmon",quantile="0.99"}`, wait, realprom.Present)
	v(`mailmon_monitors{job="mailmon"}`, 2)
	// Without the token, Prometheus is refused.
	v(`up{job="mailmon-noauth"}`, 0)

	// /probe, ad hoc: a working server, a closed port, and one that never
	// answers, whose probe ends within Prometheus' 1 s scrape timeout
	// (the scrape succeeds: up is 1, probe_success 0).
	v(`probe_success{job="mailmon-smtp",instance="`+up.Addr()+`"}`, 1)
	prom.WaitFor(t, `probe_phase_duration_seconds{job="mailmon-smtp",instance="`+up.Addr()+`",phase="greeting"}`, wait, realprom.Present)
	v(`probe_success{job="mailmon-smtp",instance="`+down+`"}`, 0)
	v(`mailmon_probe_error_code_info{job="mailmon-smtp",instance="`+down+`",code="connect_failed"}`, 1)
	v(`probe_success{job="mailmon-smtp",instance="`+hang.Addr()+`"}`, 0)
	v(`mailmon_probe_error_code_info{job="mailmon-smtp",instance="`+hang.Addr()+`",code="timeout"}`, 1)
	// Every scrape of it succeeded, not just one: mailmon answered within
	// the scrape timeout each time.
	prom.WaitFor(t, `count_over_time(up{job="mailmon-smtp",instance="`+hang.Addr()+`"}[1m]) >= 3`, wait, realprom.Present)
	v(`min_over_time(up{job="mailmon-smtp",instance="`+hang.Addr()+`"}[1m])`, 1)
	hangTime := prom.WaitFor(t, `probe_duration_seconds{job="mailmon-smtp",instance="`+hang.Addr()+`"}`, wait, realprom.Present)
	if d := hangTime[0].Value; d < 0.4 || d > 0.9 {
		t.Errorf("a silent server's probe took %.3f s; want about 0.5 s (the 1 s scrape timeout less the margin)", d)
	}
	// /probe of a stored monitor: a login with its sealed password.
	v(`probe_success{job="mailmon-login",instance="mail1/Submission login"}`, 1)
	prom.WaitFor(t, `probe_phase_duration_seconds{job="mailmon-login",phase="auth"}`, wait, realprom.Present)

	// A server that goes down shows within a few scrapes.
	healthy.Store(false)
	v(`probe_success{job="mailmon-smtp",instance="`+up.Addr()+`"}`, 0)

	// The documented alerting rules load and evaluate without error.
	deadline := time.Now().Add(wait)
	for {
		rs, err := prom.Rules(context.Background())
		ok := err == nil && len(rs) > 0
		for _, r := range rs {
			if r.Health != "ok" {
				ok = false
				if r.Health == "err" {
					t.Fatalf("rule %s: %s", r.Name, r.LastError)
				}
			}
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rules not all evaluated: %v %v", rs, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if strings.Contains(d.stderr.String(), "prom-s3cret") {
		t.Error("the password is in the daemon's log")
	}
}

// TestPrometheusDocs: the documented configuration and rules pass
// promtool's checks, and the rules fire as their unit tests say.
func TestPrometheusDocs(t *testing.T) {
	tool, err := realprom.Promtool()
	realprom.Need(t, err)
	docs, err := filepath.Abs("../../docs/prometheus")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tok := filepath.Join(dir, "mailmon.token")
	os.WriteFile(tok, []byte("mm_x\n"), 0o600)
	b, err := os.ReadFile(filepath.Join(docs, "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.NewReplacer("/etc/prometheus/mailmon.token", tok,
		"/etc/prometheus/mailmon-rules.yml", filepath.Join(docs, "mailmon-rules.yml")).Replace(string(b))
	cfgFile := filepath.Join(dir, "prometheus.yml")
	os.WriteFile(cfgFile, []byte(cfg), 0o600)
	for _, args := range [][]string{
		{"check", "config", cfgFile},
		{"check", "rules", filepath.Join(docs, "mailmon-rules.yml")},
		{"test", "rules", filepath.Join(docs, "mailmon-rules.test.yml")},
	} {
		cmd := exec.Command(tool, args...)
		cmd.Dir = docs
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
