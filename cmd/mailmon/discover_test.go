package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/discover"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

// TestDiscoverRealServers is issue 8's "done when": mailmon discover
// 127.0.0.1 against real Postfix and Dovecot finds every service with its
// TLS modes and mechanisms, and its YAML, piped into mailmon apply -f -,
// makes monitors that all come Up in the daemon.
func TestDiscoverRealServers(t *testing.T) {
	e := realmail.Start(t)
	type svc struct {
		service string
		port    int
		tlsMode string
		before  []string
		after   []string
		reasons []string
	}
	// The harness's Postfix keeps its default smtpd_tls_protocols
	// (>=TLSv1), so it accepts TLS 1.0 and 1.1; its Dovecot has
	// ssl_min_protocol = TLSv1.2.
	old := discover.ReasonOldTLS
	auth := []string{"PLAIN", "LOGIN", "CRAM-MD5"}
	pop3Auth := []string{"USER", "APOP", "PLAIN", "LOGIN", "CRAM-MD5"}
	imapAuth := []string{"LOGIN", "PLAIN", "CRAM-MD5"}
	want := []svc{
		{"smtp", e.SMTP, "starttls", nil, nil, []string{old}},
		{"smtp", e.SMTPNoTLS, "none", nil, nil, []string{discover.ReasonStartTLSMissing}},
		{"submission", e.Submission, "starttls", nil, auth, []string{old}},
		{"submission", e.SubmissionPlain, "starttls", auth, auth, []string{discover.ReasonPlaintextAuth, old}},
		{"smtps", e.SMTPS, "implicit", nil, auth, []string{old}},
		{"pop3", e.POP3, "starttls", pop3Auth, pop3Auth, []string{discover.ReasonPlaintextAuth}},
		{"pop3s", e.POP3S, "implicit", nil, pop3Auth, nil},
		{"imap", e.IMAP, "starttls", imapAuth, imapAuth, []string{discover.ReasonPlaintextAuth}},
		{"imaps", e.IMAPS, "implicit", nil, imapAuth, nil},
	}
	var ports []string
	for _, w := range want {
		ports = append(ports, w.service+":"+strconv.Itoa(w.port))
	}
	args := []string{"discover", "127.0.0.1", "--ports", strings.Join(ports, ","), "--ca", e.CAFile, "--servername", e.ServerName, "--timeout", "30s"}

	code, out, errOut, took := mailmon(t, nil, append(args, "--output", "json")...)
	var r discover.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 {
		t.Fatalf("exit %d, %v\n%s%s", code, err, out, errOut)
	}
	if took > 30*time.Second || len(r.Hosts) != 1 || len(r.Hosts[0].Services) != len(want) {
		t.Fatalf("took %v, report %+v", took, r)
	}
	for i, w := range want {
		s := r.Hosts[0].Services[i]
		t.Run(fmt.Sprintf("%s_%d", w.service, w.port), func(t *testing.T) {
			if s.Name != w.service || s.Port != w.port || !s.Open || s.Error != "" {
				t.Fatalf("%+v", s)
			}
			if s.TLSMode != w.tlsMode || !slices.Equal(s.AuthBeforeTLS, w.before) || !slices.Equal(s.AuthAfterTLS, w.after) {
				t.Errorf("tls mode %s, auth before %v after %v; want %s, %v, %v", s.TLSMode, s.AuthBeforeTLS, s.AuthAfterTLS, w.tlsMode, w.before, w.after)
			}
			if !slices.Equal(s.Verdict.Codes(), w.reasons) {
				t.Errorf("verdict %s %v (%+v), want %v", s.Verdict.Grade, s.Verdict.Codes(), s.Verdict.Reasons, w.reasons)
			}
			if w.tlsMode == "none" {
				return
			}
			versions := []string{"TLS1.2", "TLS1.3"}
			if s.Protocol == "smtp" {
				versions = []string{"TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"}
			}
			if s.TLS == nil || s.TLS.Version != "TLS1.3" || !slices.Equal(s.TLSVersions, versions) {
				t.Errorf("tls %+v, versions %v", s.TLS, s.TLSVersions)
			}
			if c := s.Cert; c == nil || !c.Verified || c.VerifiedFor != "localhost" || c.DaysLeft < 300 {
				t.Errorf("certificate %+v", s.Cert)
			}
			if w.tlsMode == "starttls" && s.Injection != discover.InjectionSafe {
				t.Errorf("STARTTLS injection: %s (%s)", s.Injection, s.InjectionDetail)
			}
			if w.service == "smtp" || w.service == "submission" {
				if s.SizeLimit <= 0 || !slices.Contains(s.Extensions, "PIPELINING") {
					t.Errorf("size %d, extensions %v", s.SizeLimit, s.Extensions)
				}
			}
		})
	}

	// The table a person reads.
	code, table, _, _ := mailmon(t, nil, args...)
	if code != 0 || !strings.Contains(table, "SERVICE") || !strings.Contains(table, "starttls_missing") || strings.Contains(table, "\033[") {
		t.Errorf("table: exit %d\n%s", code, table)
	}

	// --output yaml | mailmon apply -f -, then the daemon.
	code, yml, errOut, _ := mailmon(t, nil, append(args, "--output", "yaml")...)
	if code != 0 {
		t.Fatalf("yaml: exit %d\n%s", code, errOut)
	}
	db := filepath.Join(t.TempDir(), "mailmon.db")
	env := []string{"MAILMON_SECRET=test-installation-secret-0123456789"}
	apply := exec.Command(os.Args[0], "apply", "-f", "-", "--db", db)
	apply.Env = append(append(os.Environ(), "MAILMON_RUN_MAIN=1"), env...)
	apply.Stdin = strings.NewReader(yml)
	applied, err := apply.CombinedOutput()
	if err != nil || strings.Count(string(applied), ": created") != 1+1+2*len(want) {
		t.Fatalf("apply -f -: %v\n%s\n%s", err, applied, yml)
	}
	_, tok, _, _ := mailmon(t, nil, "token", "create", "--name", "ci", "--db", db)
	tok = strings.TrimSpace(tok)
	d := startDaemon(t, db, env)
	total := 1 + 2*len(want)
	deadline := time.Now().Add(20 * time.Second)
	var list struct {
		Total int `json:"total"`
		Items []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			State string `json:"state"`
		} `json:"items"`
	}
	for {
		d.get("/api/v1/monitors?limit=100", tok, &list)
		up := 0
		for _, m := range list.Items {
			if m.State == "up" {
				up++
			}
		}
		if up == total && list.Total == total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not all %d monitors up after 20 s: %+v\n%s", total, list, d.stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
