package pop3probe

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakepop3"
	"github.com/mailmon/mailmon/internal/testutil/leak"
)

// TestErrors checks the code, phase and reply of every way a POP3 check
// fails against a server that speaks the protocol (the misbehaving servers
// are in TestHostile, with timeout, disconnected and tls_failed), and that the session still ends with QUIT when the
// server answered in protocol.
func TestErrors(t *testing.T) {
	ca := certs.NewCA(t)
	expired := certs.ServerConfig(ca.Expired(t))
	otherHost := certs.ServerConfig(ca.OtherHost(t))
	tests := []struct {
		name     string
		opts     *fakepop3.Options // nil: no server
		mode     probe.TLSMode
		cfg      func(t *testing.T, c *probe.Config)
		code     probe.Code
		phase    string
		reply    string
		auth     string   // the mechanism recorded: only a login that worked
		detail   string   // the error's detail, when it matters
		received []string // what the server got, when it matters
	}{
		{
			name: "config_missing: no host", code: probe.ConfigMissing,
			cfg: func(t *testing.T, c *probe.Config) { *c = probe.Config{Type: "pop3"} },
		},
		{
			name: "config_missing: plaintext credentials with tls none", code: probe.ConfigMissing,
			cfg: func(t *testing.T, c *probe.Config) {
				*c = probe.Config{Type: "pop3", Host: "127.0.0.1", User: user, Password: password}
			},
		},
		{
			name: "config_missing: the token command fails", opts: &fakepop3.Options{Implicit: true, SASL: []string{"XOAUTH2"}},
			mode: probe.TLSImplicit, code: probe.ConfigMissing, phase: "auth",
			cfg: func(t *testing.T, c *probe.Config) {
				c.User, c.Auth, c.OAuthToken = user, "XOAUTH2", oauth.Source{Command: []string{"/nonexistent/token-helper"}}
			},
			// The stream is still fine: the session ends with QUIT.
			received: []string{"CAPA+tls", "QUIT+tls"},
		},
		{
			name: "dns_failed", code: probe.DNSFailed, phase: "dns",
			cfg: func(t *testing.T, c *probe.Config) {
				*c = probe.Config{Type: "pop3", Host: "nonexistent.invalid", Timeout: 5 * time.Second}
			},
		},
		{
			name: "connect_failed", code: probe.ConnectFailed, phase: "connect",
			cfg: func(t *testing.T, c *probe.Config) {
				*c = probe.Config{Type: "pop3", Host: "127.0.0.1", Port: closedPort(t), Timeout: 5 * time.Second}
			},
		},
		{
			name: "service_error: -ERR greeting", opts: &fakepop3.Options{Greeting: "-ERR [SYS/TEMP] server busy"},
			code: probe.ServiceError, phase: "greeting", reply: "-ERR [SYS/TEMP] server busy",
			received: []string{"QUIT"},
		},
		{
			name: "service_error: STAT refused", opts: &fakepop3.Options{Implicit: true, FailStat: true}, mode: probe.TLSImplicit,
			cfg: func(t *testing.T, c *probe.Config) {
				*c = withLogin(*c, "")
				c.Stat = true
			},
			code: probe.ServiceError, phase: "stat", reply: "-ERR [SYS/TEMP] maildrop is unavailable", auth: "USER",
			received: []string{"CAPA+tls", "USER+tls", "PASS+tls", "STAT+tls", "QUIT+tls"},
		},
		{
			name: "service_error: login refused for a system failure", opts: &fakepop3.Options{Implicit: true, AuthCode: "SYS/TEMP"},
			mode: probe.TLSImplicit, cfg: func(t *testing.T, c *probe.Config) {
				*c = withLogin(*c, "USER")
				c.Password = "wrong-password-value"
			},
			code: probe.ServiceError, phase: "auth", reply: "-ERR [SYS/TEMP] invalid credentials",
			received: []string{"CAPA+tls", "USER+tls", "PASS+tls", "QUIT+tls"},
		},
		{
			name: "protocol_violation: not a POP3 greeting", opts: &fakepop3.Options{Greeting: "* OK IMAP4rev1 ready"},
			code: probe.ProtocolViolation, phase: "greeting", received: []string{},
		},
		{
			name: "tls_unavailable: required STLS not offered", opts: &fakepop3.Options{}, mode: probe.TLSStartTLS,
			code: probe.TLSUnavailable, phase: "starttls", received: []string{"CAPA", "QUIT"},
		},
		{
			name: "tls_unavailable: STLS refused", opts: &fakepop3.Options{RefuseSTLS: true}, mode: probe.TLSStartTLS,
			code: probe.TLSUnavailable, phase: "starttls", reply: "-ERR [SYS/TEMP] TLS is not available now",
			received: []string{"CAPA", "STLS", "QUIT"},
		},
		{
			name: "tls_unavailable: USER/PASS refused without TLS", opts: &fakepop3.Options{}, mode: probe.TLSOptional,
			cfg:  func(t *testing.T, c *probe.Config) { *c = withLogin(*c, "") },
			code: probe.TLSUnavailable, phase: "auth", received: []string{"CAPA", "QUIT"},
		},
		{
			name: "tls_unavailable: SASL PLAIN refused without TLS", opts: &fakepop3.Options{SASL: []string{"PLAIN"}}, mode: probe.TLSOptional,
			cfg:  func(t *testing.T, c *probe.Config) { *c = withLogin(*c, "PLAIN") },
			code: probe.TLSUnavailable, phase: "auth", received: []string{"CAPA", "QUIT"},
		},
		{
			name: "tls_unavailable: XOAUTH2 refused without TLS", opts: &fakepop3.Options{SASL: []string{"XOAUTH2"}}, mode: probe.TLSOptional,
			cfg: func(t *testing.T, c *probe.Config) {
				c.User, c.OAuthToken = user, oauth.Source{File: tokenFile(t, token)}
			},
			code: probe.TLSUnavailable, phase: "auth", received: []string{"CAPA", "QUIT"},
		},
		{
			name: "cert_invalid: untrusted", opts: &fakepop3.Options{Implicit: true}, mode: probe.TLSImplicit,
			cfg:  func(t *testing.T, c *probe.Config) { c.CAFile = "" },
			code: probe.CertInvalid, phase: "tls", received: []string{},
		},
		{
			name: "cert_invalid: expired, after STLS", opts: &fakepop3.Options{STLS: true, TLS: expired}, mode: probe.TLSStartTLS,
			cfg:  func(t *testing.T, c *probe.Config) { c.CAFile = ca.File(t) },
			code: probe.CertInvalid, phase: "tls", received: []string{"CAPA", "STLS"},
		},
		{
			name: "cert_invalid: another host", opts: &fakepop3.Options{Implicit: true, TLS: otherHost}, mode: probe.TLSImplicit,
			cfg:  func(t *testing.T, c *probe.Config) { c.CAFile = ca.File(t) },
			code: probe.CertInvalid, phase: "tls", received: []string{},
		},
		{
			name: "auth_failed: USER/PASS", opts: &fakepop3.Options{Implicit: true}, mode: probe.TLSImplicit,
			cfg: func(t *testing.T, c *probe.Config) {
				*c = withLogin(*c, "USER")
				c.Password = "wrong-password-value"
			},
			code: probe.AuthFailed, phase: "auth", reply: "-ERR [AUTH] invalid credentials",
			received: []string{"CAPA+tls", "USER+tls", "PASS+tls", "QUIT+tls"},
		},
		{
			name: "auth_failed: USER refused before TLS", opts: &fakepop3.Options{AuthNeedsTLS: true},
			cfg: func(t *testing.T, c *probe.Config) {
				*c = withLogin(*c, "USER")
				c.AllowPlaintextAuth = true
			},
			code: probe.AuthFailed, phase: "auth", reply: "-ERR [AUTH] Plaintext authentication disallowed on non-secure connections",
			received: []string{"CAPA", "USER", "QUIT"},
		},
		{
			name: "auth_failed: APOP", opts: &fakepop3.Options{APOP: true},
			cfg: func(t *testing.T, c *probe.Config) {
				*c = withLogin(*c, "APOP")
				c.Password, c.AllowPlaintextAuth = "wrong-password-value", true
			},
			code: probe.AuthFailed, phase: "auth", reply: "-ERR [AUTH] invalid credentials",
			received: []string{"CAPA", "APOP", "QUIT"},
		},
		{
			name: "auth_unsupported: APOP without a timestamp", opts: &fakepop3.Options{Implicit: true, SASL: []string{"PLAIN"}},
			mode: probe.TLSImplicit, cfg: func(t *testing.T, c *probe.Config) { *c = withLogin(*c, "APOP") },
			code: probe.AuthUnsupported, phase: "auth", received: []string{"CAPA+tls", "QUIT+tls"},
			detail: "the server does not offer APOP: the greeting has no timestamp (offered: USER PLAIN)",
		},
		{
			name: "auth_failed: SASL PLAIN", opts: &fakepop3.Options{Implicit: true, SASL: []string{"PLAIN"}}, mode: probe.TLSImplicit,
			cfg: func(t *testing.T, c *probe.Config) {
				*c = withLogin(*c, "PLAIN")
				c.Password = "wrong-password-value"
			},
			code: probe.AuthFailed, phase: "auth", reply: "-ERR [AUTH] invalid credentials",
			received: []string{"CAPA+tls", "AUTH+tls", "QUIT+tls"},
		},
		{
			name: "auth_failed: CRAM-MD5", opts: &fakepop3.Options{SASL: []string{"CRAM-MD5"}},
			cfg: func(t *testing.T, c *probe.Config) {
				*c = withLogin(*c, "CRAM-MD5")
				c.Password, c.AllowPlaintextAuth = "wrong-password-value", true
			},
			code: probe.AuthFailed, phase: "auth", reply: "-ERR [AUTH] invalid credentials",
			received: []string{"CAPA", "AUTH", "<sasl>", "QUIT"},
		},
		{
			name: "auth_failed: XOAUTH2 token", opts: &fakepop3.Options{Implicit: true, SASL: []string{"XOAUTH2"}}, mode: probe.TLSImplicit,
			cfg: func(t *testing.T, c *probe.Config) {
				c.User, c.Auth, c.OAuthToken = user, "XOAUTH2", oauth.Source{File: tokenFile(t, "ya29.wrong-token-value")}
			},
			code: probe.AuthFailed, phase: "auth", reply: "-ERR [AUTH] invalid credentials",
			received: []string{"CAPA+tls", "AUTH+tls", "<sasl>+tls", "QUIT+tls"},
		},
		{
			name: "auth_failed: OAUTHBEARER token", opts: &fakepop3.Options{Implicit: true, SASL: []string{"OAUTHBEARER"}}, mode: probe.TLSImplicit,
			cfg: func(t *testing.T, c *probe.Config) {
				c.User, c.Auth, c.OAuthToken = user, "OAUTHBEARER", oauth.Source{Command: tokenCommand(t, "ya29.wrong-token-value")}
			},
			code: probe.AuthFailed, phase: "auth", reply: "-ERR [AUTH] invalid credentials",
			received: []string{"CAPA+tls", "AUTH+tls", "<sasl>+tls", "QUIT+tls"},
		},
		{
			name: "auth_unsupported: the named mechanism is not offered", opts: &fakepop3.Options{Implicit: true, SASL: []string{"PLAIN"}, APOP: true}, mode: probe.TLSImplicit,
			cfg:  func(t *testing.T, c *probe.Config) { *c = withLogin(*c, "CRAM-MD5") },
			code: probe.AuthUnsupported, phase: "auth", received: []string{"CAPA+tls", "QUIT+tls"},
			detail: "the server does not offer CRAM-MD5 (offered: USER APOP PLAIN)",
		},
		{
			name: "auth_unsupported: no mechanism for a token", opts: &fakepop3.Options{Implicit: true, SASL: []string{"PLAIN"}, NoUSER: true}, mode: probe.TLSImplicit,
			cfg: func(t *testing.T, c *probe.Config) {
				c.User, c.OAuthToken = user, oauth.Source{File: tokenFile(t, token)}
			},
			code: probe.AuthUnsupported, phase: "auth", received: []string{"CAPA+tls", "QUIT+tls"},
			detail: "the server offers no mechanism mailmon can use: an OAuth token is sent with XOAUTH2 or OAUTHBEARER (offered: PLAIN)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leak.Check(t)
			var srv *fakepop3.Server
			var cfg probe.Config
			if tt.opts != nil {
				srv = start(t, *tt.opts)
				cfg = config(srv, tt.mode)
			}
			if tt.cfg != nil {
				tt.cfg(t, &cfg)
			}
			r := run(cfg)
			wantCode(t, r, tt.code)
			if r.Error.Phase != tt.phase {
				t.Errorf("phase %q, want %q:\n%s", r.Error.Phase, tt.phase, dump(r))
			}
			if tt.detail != "" && r.Error.Detail != tt.detail {
				t.Errorf("detail %q, want %q", r.Error.Detail, tt.detail)
			}
			if r.Error.Reply != tt.reply {
				t.Errorf("reply %q, want %q", r.Error.Reply, tt.reply)
			}
			if r.Error.Message != tt.code.Message() {
				t.Errorf("message %q, want %q", r.Error.Message, tt.code.Message())
			}
			if r.Auth != tt.auth {
				t.Errorf("auth mechanism %q recorded, want %q", r.Auth, tt.auth)
			}
			if srv != nil && tt.received != nil {
				if got := received(srv); !slices.Equal(got, tt.received) && !(len(got) == 0 && len(tt.received) == 0) {
					t.Errorf("the server received %q, want %q", got, tt.received)
				}
			}
			noSecrets(t, r, srv)
			if js := dump(r); strings.Contains(js, "wrong-password-value") || strings.Contains(js, "wrong-token-value") {
				t.Errorf("a secret is in the result:\n%s", js)
			}
		})
	}
}
