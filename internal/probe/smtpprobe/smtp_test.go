package smtpprobe

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/saslsrv"
)

const (
	user     = "probe@fake.example"
	password = "s3cret-Pa55word"
	token    = "ya29.tok-EN-1234567890"
)

var accounts = saslsrv.Accounts{
	Passwords: map[string]string{user: password},
	Tokens:    map[string]string{user: token},
}

func run(t *testing.T, cfg probe.Config) *probe.Result {
	t.Helper()
	cfg.Type = "smtp"
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	r := probe.Run(context.Background(), Kind(), cfg)
	assertNoSecrets(t, r)
	return r
}

// assertNoSecrets fails if a credential, in clear or in any base64 form an
// AUTH exchange could carry, shows in the result.
func assertNoSecrets(t *testing.T, r *probe.Result) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	for _, s := range []string{
		password, token,
		base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password)),
		base64.StdEncoding.EncodeToString([]byte(password)),
		base64.StdEncoding.EncodeToString([]byte("user=" + user + "\x01auth=Bearer " + token + "\x01\x01")),
	} {
		if strings.Contains(out, s) {
			t.Errorf("secret %q leaked into the result: %s", s, out)
		}
	}
}

func phases(r *probe.Result) []string {
	var n []string
	for _, p := range r.Phases {
		n = append(n, p.Name)
	}
	return n
}

func wantUp(t *testing.T, r *probe.Result) {
	t.Helper()
	if r.Status != probe.StatusUp {
		t.Fatalf("status %s, error %+v\ntranscript:\n%s", r.Status, r.Error, strings.Join(r.Transcript, "\n"))
	}
}

func wantCode(t *testing.T, r *probe.Result, code probe.Code) {
	t.Helper()
	if r.Status != probe.StatusDown || r.Error == nil || r.Error.Code != code {
		t.Fatalf("want down with %s, got status %s error %+v\ntranscript:\n%s", code, r.Status, r.Error, strings.Join(r.Transcript, "\n"))
	}
}

func TestSuccess(t *testing.T) {
	ca := certs.NewCA(t)
	caFile := ca.File(t)
	tlsCfg := certs.ServerConfig(ca.Issue(t, certs.Leaf{}))
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte(token+"\n"), 0o600)
	script := filepath.Join(t.TempDir(), "token.sh")
	os.WriteFile(script, []byte("#!/bin/sh\necho "+token+"\n"), 0o700)

	tests := []struct {
		name       string
		opts       fakesmtp.Options
		cfg        probe.Config
		wantPhases []string
		wantMode   probe.TLSMode
		wantAuth   string
	}{
		{name: "banner, no TLS", opts: fakesmtp.Options{},
			cfg:        probe.Config{TLS: probe.TLSNone},
			wantPhases: []string{"connect", "greeting", "capabilities", "quit"}, wantMode: probe.TLSNone},
		{name: "banner over IPv6", opts: fakesmtp.Options{Network: "tcp6"},
			cfg:        probe.Config{Host: "::1", TLS: probe.TLSNone},
			wantPhases: []string{"connect", "greeting", "capabilities", "quit"}, wantMode: probe.TLSNone},
		{name: "starttls-optional without STARTTLS stays plain", opts: fakesmtp.Options{},
			cfg:        probe.Config{TLS: probe.TLSOptional},
			wantPhases: []string{"connect", "greeting", "capabilities", "quit"}, wantMode: probe.TLSNone},
		{name: "starttls-optional upgrades when offered", opts: fakesmtp.Options{TLS: tlsCfg},
			cfg:        probe.Config{TLS: probe.TLSOptional, CAFile: caFile},
			wantPhases: []string{"connect", "greeting", "capabilities", "starttls", "tls", "capabilities_tls", "quit"}, wantMode: probe.TLSStartTLS},
		{name: "starttls required", opts: fakesmtp.Options{TLS: tlsCfg},
			cfg:        probe.Config{TLS: probe.TLSStartTLS, CAFile: caFile},
			wantPhases: []string{"connect", "greeting", "capabilities", "starttls", "tls", "capabilities_tls", "quit"}, wantMode: probe.TLSStartTLS},
		{name: "implicit TLS", opts: fakesmtp.Options{TLS: tlsCfg, Implicit: true},
			cfg:        probe.Config{TLS: probe.TLSImplicit, CAFile: caFile},
			wantPhases: []string{"connect", "tls", "greeting", "capabilities", "quit"}, wantMode: probe.TLSImplicit},
		{name: "AUTH PLAIN after STARTTLS", opts: fakesmtp.Options{TLS: tlsCfg, Accounts: accounts},
			cfg:        probe.Config{TLS: probe.TLSStartTLS, CAFile: caFile, User: user, Password: password, Auth: "plain"},
			wantPhases: []string{"connect", "greeting", "capabilities", "starttls", "tls", "capabilities_tls", "auth", "quit"}, wantMode: probe.TLSStartTLS, wantAuth: "PLAIN"},
		{name: "AUTH LOGIN on implicit TLS", opts: fakesmtp.Options{TLS: tlsCfg, Implicit: true, Accounts: accounts},
			cfg:      probe.Config{TLS: probe.TLSImplicit, CAFile: caFile, User: user, Password: password, Auth: "LOGIN"},
			wantMode: probe.TLSImplicit, wantAuth: "LOGIN"},
		{name: "AUTH CRAM-MD5", opts: fakesmtp.Options{TLS: tlsCfg, Accounts: accounts},
			cfg:      probe.Config{TLS: probe.TLSStartTLS, CAFile: caFile, User: user, Password: password, Auth: "CRAM-MD5"},
			wantMode: probe.TLSStartTLS, wantAuth: "CRAM-MD5"},
		{name: "auto picks PLAIN under TLS", opts: fakesmtp.Options{TLS: tlsCfg, Accounts: accounts},
			cfg:      probe.Config{TLS: probe.TLSStartTLS, CAFile: caFile, User: user, Password: password},
			wantMode: probe.TLSStartTLS, wantAuth: "PLAIN"},
		{name: "auto picks CRAM-MD5 without TLS when allowed", opts: fakesmtp.Options{Accounts: accounts, AllowInsecureAuth: true},
			cfg:      probe.Config{TLS: probe.TLSOptional, User: user, Password: password, AllowPlaintextAuth: true},
			wantMode: probe.TLSNone, wantAuth: "CRAM-MD5"},
		{name: "PLAIN without TLS when allowed", opts: fakesmtp.Options{Accounts: accounts, AllowInsecureAuth: true},
			cfg:      probe.Config{TLS: probe.TLSNone, User: user, Password: password, Auth: "PLAIN", AllowPlaintextAuth: true},
			wantMode: probe.TLSNone, wantAuth: "PLAIN"},
		{name: "XOAUTH2 token from file", opts: fakesmtp.Options{TLS: tlsCfg, Accounts: accounts},
			cfg:      probe.Config{TLS: probe.TLSStartTLS, CAFile: caFile, User: user, Auth: "XOAUTH2", OAuthToken: oauth.Source{File: tokenFile}},
			wantMode: probe.TLSStartTLS, wantAuth: "XOAUTH2"},
		{name: "OAUTHBEARER token from command, auto", opts: fakesmtp.Options{TLS: tlsCfg, Accounts: accounts},
			cfg:      probe.Config{TLS: probe.TLSStartTLS, CAFile: caFile, User: user, OAuthToken: oauth.Source{Command: []string{script}}},
			wantMode: probe.TLSStartTLS, wantAuth: "OAUTHBEARER"},
		{name: "insecure skip verify accepts another host's cert", opts: fakesmtp.Options{TLS: certs.ServerConfig(ca.OtherHost(t))},
			cfg:      probe.Config{TLS: probe.TLSStartTLS, InsecureSkipVerify: true},
			wantMode: probe.TLSStartTLS},
		{name: "server name overrides the host for verification", opts: fakesmtp.Options{TLS: certs.ServerConfig(ca.OtherHost(t))},
			cfg:      probe.Config{TLS: probe.TLSStartTLS, CAFile: caFile, ServerName: "mail.other.example"},
			wantMode: probe.TLSStartTLS},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakesmtp.Start(t, tc.opts)
			cfg := tc.cfg
			if cfg.Host == "" {
				cfg.Host = srv.Host
			}
			cfg.Port = srv.Port
			r := run(t, cfg)
			wantUp(t, r)
			if tc.wantPhases != nil && !slices.Equal(phases(r), tc.wantPhases) {
				t.Errorf("phases %v, want %v", phases(r), tc.wantPhases)
			}
			if r.TLSMode != tc.wantMode {
				t.Errorf("negotiated TLS mode %q, want %q", r.TLSMode, tc.wantMode)
			}
			if r.Auth != tc.wantAuth {
				t.Errorf("auth mechanism %q, want %q", r.Auth, tc.wantAuth)
			}
			if tc.wantMode != probe.TLSNone {
				if r.TLS == nil || r.TLS.Version == "" || r.TLS.Cipher == "" || r.TLS.CertNotAfter.IsZero() || r.TLS.DaysLeft < 300 {
					t.Errorf("TLS facts missing: %+v", r.TLS)
				}
			} else if r.TLS != nil {
				t.Errorf("TLS facts without TLS: %+v", r.TLS)
			}
			if r.RTT <= 0 || r.RTT > 5*time.Second {
				t.Errorf("rtt %v", r.RTT)
			}
			cmds := srv.Commands()
			if cmds[len(cmds)-1] != "QUIT" {
				t.Errorf("the session did not end with QUIT: %q", cmds)
			}
			if i := slices.Index(cmds, "STARTTLS"); i >= 0 {
				if i == len(cmds)-1 || !strings.HasPrefix(cmds[i+1], "EHLO ") {
					t.Errorf("EHLO not issued again right after STARTTLS: %q", cmds)
				}
			}
			if tc.wantAuth != "" && len(srv.Commands()) > 0 {
				r2 := run(t, cfg) // twice: nothing is cached between tests
				wantUp(t, r2)
			}
		})
	}
}

func TestEHLOName(t *testing.T) {
	srv := fakesmtp.Start(t, fakesmtp.Options{})
	r := run(t, probe.Config{Host: srv.Host, Port: srv.Port, EHLOName: "monitor.example.net"})
	wantUp(t, r)
	if cmds := srv.Commands(); !slices.Contains(cmds, "EHLO monitor.example.net") {
		t.Errorf("configured EHLO name not used: %q", cmds)
	}
}

func TestWarn(t *testing.T) {
	ca := certs.NewCA(t)
	t.Run("certificate expiring within cert_warn_days", func(t *testing.T) {
		srv := fakesmtp.Start(t, fakesmtp.Options{TLS: certs.ServerConfig(ca.ExpiringIn(t, 5*24*time.Hour))})
		r := run(t, probe.Config{Host: srv.Host, Port: srv.Port, TLS: probe.TLSStartTLS, CAFile: ca.File(t), CertWarnDays: 14})
		if r.Status != probe.StatusWarn || r.TLS == nil || r.TLS.DaysLeft != 4 && r.TLS.DaysLeft != 5 {
			t.Fatalf("status %s tls %+v warnings %v", r.Status, r.TLS, r.Warnings)
		}
	})
	t.Run("rtt over the warn threshold", func(t *testing.T) {
		srv := fakesmtp.Start(t, fakesmtp.Options{})
		r := run(t, probe.Config{Host: srv.Host, Port: srv.Port, WarnRTT: time.Nanosecond})
		if r.Status != probe.StatusWarn || len(r.Warnings) != 1 {
			t.Fatalf("status %s warnings %v", r.Status, r.Warnings)
		}
	})
}

func TestErrors(t *testing.T) {
	ca := certs.NewCA(t)
	caFile := ca.File(t)
	good := certs.ServerConfig(ca.Issue(t, certs.Leaf{}))
	tests := []struct {
		name      string
		opts      *fakesmtp.Options
		cfg       probe.Config
		code      probe.Code
		phase     string
		wantReply string
	}{
		{name: "no host", cfg: probe.Config{Port: 25}, code: probe.ConfigMissing},
		{name: "bad port", cfg: probe.Config{Host: "127.0.0.1", Port: 70000}, code: probe.ConfigMissing},
		{name: "credentials over plaintext need allow_plaintext_auth", cfg: probe.Config{Host: "127.0.0.1", User: user, Password: password}, code: probe.ConfigMissing},
		{name: "name that does not resolve", cfg: probe.Config{Host: "nonexistent.invalid", Port: 2525}, code: probe.DNSFailed, phase: "dns"},
		{name: "closed port", cfg: probe.Config{Host: "127.0.0.1", Port: closedPort(t)}, code: probe.ConnectFailed, phase: "connect"},
		{name: "required STARTTLS not offered", opts: &fakesmtp.Options{}, cfg: probe.Config{TLS: probe.TLSStartTLS}, code: probe.TLSUnavailable, phase: "starttls"},
		{name: "no TLS for credentials in optional mode", opts: &fakesmtp.Options{Accounts: accounts, AllowInsecureAuth: true, Mechs: []string{"PLAIN"}},
			cfg: probe.Config{TLS: probe.TLSOptional, User: user, Password: password}, code: probe.TLSUnavailable, phase: "auth"},
		{name: "AUTH offered only before TLS", opts: &fakesmtp.Options{TLS: good, Accounts: accounts, Mechs: []string{}},
			cfg: probe.Config{TLS: probe.TLSStartTLS, CAFile: caFile, User: user, Password: password}, code: probe.AuthUnsupported, phase: "auth"},
		{name: "wrong password", opts: &fakesmtp.Options{TLS: good, Accounts: accounts},
			cfg: probe.Config{TLS: probe.TLSStartTLS, CAFile: caFile, User: user, Password: "wrong", Auth: "PLAIN"}, code: probe.AuthFailed, phase: "auth", wantReply: "535"},
		{name: "wrong token", opts: &fakesmtp.Options{TLS: good, Accounts: accounts},
			cfg: probe.Config{TLS: probe.TLSStartTLS, CAFile: caFile, User: user, Auth: "XOAUTH2", OAuthToken: oauth.Source{Command: []string{"echo", "bad-token"}}}, code: probe.AuthFailed, phase: "auth"},
		{name: "mechanism not offered", opts: &fakesmtp.Options{TLS: good, Accounts: accounts, Mechs: []string{"PLAIN"}},
			cfg: probe.Config{TLS: probe.TLSStartTLS, CAFile: caFile, User: user, Password: password, Auth: "CRAM-MD5"}, code: probe.AuthUnsupported, phase: "auth"},
		{name: "token command fails", opts: &fakesmtp.Options{TLS: good, Accounts: accounts},
			cfg: probe.Config{TLS: probe.TLSStartTLS, CAFile: caFile, User: user, OAuthToken: oauth.Source{Command: []string{"false"}}}, code: probe.ConfigMissing, phase: "auth"},
		{name: "untrusted certificate", opts: &fakesmtp.Options{TLS: good}, cfg: probe.Config{TLS: probe.TLSStartTLS}, code: probe.CertInvalid, phase: "tls"},
		{name: "expired certificate", opts: &fakesmtp.Options{TLS: certs.ServerConfig(ca.Expired(t))}, cfg: probe.Config{TLS: probe.TLSStartTLS, CAFile: caFile}, code: probe.CertInvalid, phase: "tls"},
		{name: "certificate for another host", opts: &fakesmtp.Options{TLS: certs.ServerConfig(ca.OtherHost(t)), Implicit: true}, cfg: probe.Config{TLS: probe.TLSImplicit, CAFile: caFile}, code: probe.CertInvalid, phase: "tls"},
		{name: "implicit TLS against a plaintext server", opts: &fakesmtp.Options{}, cfg: probe.Config{TLS: probe.TLSImplicit, Timeout: 2 * time.Second}, code: probe.TLSFailed, phase: "tls"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if tc.opts != nil {
				srv := fakesmtp.Start(t, *tc.opts)
				cfg.Host, cfg.Port = srv.Host, srv.Port
			}
			r := run(t, cfg)
			wantCode(t, r, tc.code)
			if r.Error.Phase != tc.phase {
				t.Errorf("phase %q, want %q", r.Error.Phase, tc.phase)
			}
			if !strings.Contains(r.Error.Reply, tc.wantReply) {
				t.Errorf("reply %q does not contain %q", r.Error.Reply, tc.wantReply)
			}
			if tc.phase == "tls" && r.TLSMode != "" {
				t.Errorf("tls_mode %q reported for a failed handshake", r.TLSMode)
			}
			if r.Error.Message != tc.code.Message() || r.Error.Detail == "" {
				t.Errorf("error not described: %+v", r.Error)
			}
			if tc.code == probe.CertInvalid && (r.TLS == nil || r.TLS.CertNotAfter.IsZero() || r.TLS.CertSubject == "" || r.TLS.Verified) {
				t.Errorf("certificate facts missing for a rejected certificate: %+v", r.TLS)
			}
		})
	}
}

func TestSendRejections(t *testing.T) {
	// Rejections after the probe's own steps are the round trip's; here the
	// session must still stop politely after an AUTH refusal.
	ca := certs.NewCA(t)
	srv := fakesmtp.Start(t, fakesmtp.Options{TLS: certs.ServerConfig(ca.Issue(t, certs.Leaf{})), Accounts: accounts,
		FailMail: &gosmtp.SMTPError{Code: 550, Message: "no"}})
	r := run(t, probe.Config{Host: srv.Host, Port: srv.Port, TLS: probe.TLSStartTLS, CAFile: ca.File(t), User: user, Password: "nope", Auth: "LOGIN"})
	wantCode(t, r, probe.AuthFailed)
	if cmds := srv.Commands(); cmds[len(cmds)-1] != "QUIT" {
		t.Errorf("no QUIT after the refused AUTH: %q", cmds)
	}
}

// TestCertificateRotated: verified chains are remembered between tests
// (probe's chain cache), yet a server that changes its certificate is
// reported with the new one on the very next test, and one that starts
// presenting an untrusted certificate fails it.
func TestCertificateRotated(t *testing.T) {
	ca, other := certs.NewCA(t), certs.NewCA(t)
	var current atomic.Pointer[tls.Certificate]
	first := ca.Issue(t, certs.Leaf{})
	current.Store(&first)
	srv := fakesmtp.Start(t, fakesmtp.Options{TLS: &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return current.Load(), nil }}})
	cfg := probe.Config{Host: srv.Host, Port: srv.Port, TLS: probe.TLSStartTLS, CAFile: ca.File(t)}
	for range 2 {
		r := run(t, cfg)
		wantUp(t, r)
		if r.TLS.CertSubject != "CN=localhost" || !r.TLS.Verified {
			t.Fatalf("tls %+v", r.TLS)
		}
	}
	rotated := ca.Issue(t, certs.Leaf{Names: []string{"mx2.example", "127.0.0.1"}, NotAfter: time.Now().Add(30*24*time.Hour + time.Hour)})
	current.Store(&rotated)
	r := run(t, cfg)
	wantUp(t, r)
	if r.TLS.CertSubject != "CN=mx2.example" || r.TLS.DaysLeft != 30 || !r.TLS.Verified {
		t.Errorf("after rotation: tls %+v, want CN=mx2.example with 30 days left", r.TLS)
	}
	untrusted := other.Issue(t, certs.Leaf{})
	current.Store(&untrusted)
	wantCode(t, run(t, cfg), probe.CertInvalid)
}
