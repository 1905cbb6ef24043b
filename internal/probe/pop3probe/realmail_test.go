package pop3probe

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

func TestMain(m *testing.M) { realmail.Main(m) }

type dovecotCase struct {
	name    string
	host    string // default 127.0.0.1
	port    int
	mode    probe.TLSMode
	login   bool
	auth    string
	allow   bool // allow_plaintext_auth
	stat    bool
	badPass bool
	code    probe.Code // "" for up
	mech    string     // the mechanism recorded
}

// TestDovecot runs the probe against a real Dovecot: what the fake
// promises, a real server must keep.
func TestDovecot(t *testing.T) {
	e := realmail.Start(t)
	tests := []dovecotCase{
		{name: "none, no login", port: e.POP3, mode: probe.TLSNone},
		{name: "starttls, auto", port: e.POP3, mode: probe.TLSStartTLS, login: true, mech: "PLAIN"},
		{name: "starttls, USER", port: e.POP3, mode: probe.TLSStartTLS, login: true, auth: "USER", mech: "USER"},
		{name: "starttls, LOGIN", port: e.POP3, mode: probe.TLSStartTLS, login: true, auth: "LOGIN", mech: "LOGIN"},
		{name: "none, auto keeps the password off the wire", port: e.POP3, mode: probe.TLSNone, login: true, allow: true, mech: "CRAM-MD5"},
		// A digest crosses no plaintext connection unless the monitor allows it.
		{name: "none, APOP", port: e.POP3, mode: probe.TLSNone, login: true, allow: true, auth: "APOP", mech: "APOP"},
		{name: "none, CRAM-MD5", port: e.POP3, mode: probe.TLSNone, login: true, allow: true, auth: "CRAM-MD5", mech: "CRAM-MD5"},
		{name: "implicit, STAT", port: e.POP3S, mode: probe.TLSImplicit, login: true, stat: true, mech: "PLAIN"},
		{name: "implicit, USER", port: e.POP3S, mode: probe.TLSImplicit, login: true, auth: "USER", mech: "USER"},
		{name: "implicit, APOP", port: e.POP3S, mode: probe.TLSImplicit, login: true, auth: "APOP", mech: "APOP"},
		{name: "starttls, APOP", port: e.POP3, mode: probe.TLSStartTLS, login: true, auth: "APOP", mech: "APOP"},
		{name: "implicit, wrong password", port: e.POP3S, mode: probe.TLSImplicit, login: true, auth: "USER", badPass: true, code: probe.AuthFailed},
		{name: "implicit on the STLS port", port: e.POP3, mode: probe.TLSImplicit, code: probe.TLSFailed},
	}
	if e.IPv6 {
		tests = append(tests, dovecotCase{name: "IPv6, starttls, auto", host: "::1", port: e.POP3, mode: probe.TLSStartTLS, login: true, mech: "PLAIN"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := probe.Config{Type: "pop3", Host: tt.host, Port: tt.port, TLS: tt.mode, CAFile: e.CAFile,
				ServerName: e.ServerName, Timeout: 5 * time.Second, AllowPlaintextAuth: tt.allow, Stat: tt.stat}
			if cfg.Host == "" {
				cfg.Host = "127.0.0.1"
			}
			if tt.login {
				cfg.User, cfg.Password, cfg.Auth = e.User, probe.Password(e.Password), tt.auth
				if tt.badPass {
					cfg.Password = "wrong-password-value"
				}
			}
			r := probe.Run(context.Background(), Kind(), cfg)
			if tt.code == "" {
				wantUp(t, r)
			} else {
				wantCode(t, r, tt.code)
			}
			if r.Auth != tt.mech {
				t.Errorf("auth mechanism %q, want %q", r.Auth, tt.mech)
			}
			if _, ok := r.Details["messages"]; tt.stat && !ok {
				t.Errorf("no message count: %v", r.Details)
			}
			noSecrets(t, r, nil)
			if js := dump(r); strings.Contains(js, e.Password) || strings.Contains(js, "wrong-password-value") {
				t.Errorf("a password is in the result:\n%s", js)
			}
			if t.Failed() {
				t.Log(e.LogTail())
			}
		})
	}
}
