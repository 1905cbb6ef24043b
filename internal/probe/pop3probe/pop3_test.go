package pop3probe

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/fakepop3"
	"github.com/mailmon/mailmon/internal/testutil/leak"
)

// TestSuccess runs every way a POP3 check can pass, and checks what was
// negotiated and what the server actually received.
func TestSuccess(t *testing.T) {
	long := strings.Repeat("L", 600) // an OAuth token too long for the AUTH line
	tests := []struct {
		name     string
		opts     fakepop3.Options
		mode     probe.TLSMode
		cfg      func(t *testing.T, c *probe.Config)
		phases   []string
		tlsMode  probe.TLSMode
		auth     string
		received []string
		check    func(t *testing.T, r *probe.Result, srv *fakepop3.Server)
	}{
		{
			name: "none without login", mode: probe.TLSNone,
			phases: []string{"connect", "greeting", "capabilities", "quit"}, tlsMode: probe.TLSNone,
			received: []string{"CAPA", "QUIT"},
			check: func(t *testing.T, r *probe.Result, _ *fakepop3.Server) {
				if g, _ := r.Details["greeting"].(string); g != "+OK fakepop3 ready" {
					t.Errorf("greeting detail %q", g)
				}
				if caps, _ := r.Details["capabilities"].([]string); !slices.Contains(caps, "USER") {
					t.Errorf("capabilities detail %q", caps)
				}
			},
		},
		{
			name: "none over IPv6", opts: fakepop3.Options{IPv6: true}, mode: probe.TLSNone,
			phases: []string{"connect", "greeting", "capabilities", "quit"}, tlsMode: probe.TLSNone,
			received: []string{"CAPA", "QUIT"},
			check: func(t *testing.T, r *probe.Result, srv *fakepop3.Server) {
				if want := fmt.Sprintf("[::1]:%d", srv.Port); r.Target != want {
					t.Errorf("target %q, want %q", r.Target, want)
				}
			},
		},
		{
			name: "starttls-optional with STLS offered", opts: fakepop3.Options{STLS: true}, mode: probe.TLSOptional,
			phases:  []string{"connect", "greeting", "capabilities", "starttls", "tls", "capabilities_tls", "quit"},
			tlsMode: probe.TLSStartTLS, received: []string{"CAPA", "STLS", "CAPA+tls", "QUIT+tls"},
		},
		{
			name: "starttls-optional without STLS", mode: probe.TLSOptional,
			phases: []string{"connect", "greeting", "capabilities", "quit"}, tlsMode: probe.TLSNone,
			received: []string{"CAPA", "QUIT"},
		},
		{
			name: "starttls with USER/PASS", opts: fakepop3.Options{STLS: true, AuthNeedsTLS: true}, mode: probe.TLSStartTLS,
			cfg:     func(t *testing.T, c *probe.Config) { *c = withLogin(*c, "") },
			phases:  []string{"connect", "greeting", "capabilities", "starttls", "tls", "capabilities_tls", "auth", "quit"},
			tlsMode: probe.TLSStartTLS, auth: "USER",
			received: []string{"CAPA", "STLS", "CAPA+tls", "USER+tls", "PASS+tls", "QUIT+tls"},
			check: func(t *testing.T, r *probe.Result, _ *fakepop3.Server) {
				if r.TLS == nil || !r.TLS.Verified || r.TLS.CertNotAfter.IsZero() {
					t.Errorf("TLS facts missing: %+v", r.TLS)
				}
				if !slices.Contains(r.Transcript, "C: PASS [redacted]") {
					t.Errorf("transcript lacks the redacted PASS: %q", r.Transcript)
				}
			},
		},
		{
			name: "implicit", opts: fakepop3.Options{Implicit: true}, mode: probe.TLSImplicit,
			phases: []string{"connect", "tls", "greeting", "capabilities", "quit"}, tlsMode: probe.TLSImplicit,
			received: []string{"CAPA+tls", "QUIT+tls"},
		},
		{
			name: "USER/PASS in the clear when allowed", mode: probe.TLSNone,
			cfg: func(t *testing.T, c *probe.Config) {
				*c = withLogin(*c, "USER")
				c.AllowPlaintextAuth = true
			},
			phases: []string{"connect", "greeting", "capabilities", "auth", "quit"}, tlsMode: probe.TLSNone, auth: "USER",
			received: []string{"CAPA", "USER", "PASS", "QUIT"},
		},
		{
			name: "APOP", opts: fakepop3.Options{APOP: true}, mode: probe.TLSNone,
			cfg: func(t *testing.T, c *probe.Config) {
				*c = withLogin(*c, "APOP")
				c.AllowPlaintextAuth = true
			},
			phases: []string{"connect", "greeting", "capabilities", "auth", "quit"}, auth: "APOP",
			received: []string{"CAPA", "APOP", "QUIT"},
			check: func(t *testing.T, r *probe.Result, _ *fakepop3.Server) {
				if !slices.Contains(r.Transcript, "C: APOP "+user+" [redacted]") {
					t.Errorf("transcript lacks the redacted APOP: %q", r.Transcript)
				}
			},
		},
		{
			name: "auto picks APOP without TLS", opts: fakepop3.Options{APOP: true, SASL: []string{"PLAIN", "LOGIN"}}, mode: probe.TLSNone,
			cfg: func(t *testing.T, c *probe.Config) {
				*c = withLogin(*c, "auto")
				c.AllowPlaintextAuth = true
			},
			phases: []string{"connect", "greeting", "capabilities", "auth", "quit"}, auth: "APOP",
			received: []string{"CAPA", "APOP", "QUIT"},
		},
		{
			name: "auto picks CRAM-MD5 without TLS", opts: fakepop3.Options{APOP: true, SASL: []string{"PLAIN", "CRAM-MD5"}}, mode: probe.TLSNone,
			cfg: func(t *testing.T, c *probe.Config) {
				*c = withLogin(*c, "")
				c.AllowPlaintextAuth = true
			},
			phases: []string{"connect", "greeting", "capabilities", "auth", "quit"}, auth: "CRAM-MD5",
			received: []string{"CAPA", "AUTH", "<sasl>", "QUIT"},
		},
		{
			name: "auto picks PLAIN over TLS", opts: fakepop3.Options{STLS: true, APOP: true, SASL: []string{"LOGIN", "PLAIN"}}, mode: probe.TLSStartTLS,
			cfg:    func(t *testing.T, c *probe.Config) { *c = withLogin(*c, "") },
			phases: []string{"connect", "greeting", "capabilities", "starttls", "tls", "capabilities_tls", "auth", "quit"},
			auth:   "PLAIN", tlsMode: probe.TLSStartTLS,
			received: []string{"CAPA", "STLS", "CAPA+tls", "AUTH+tls", "QUIT+tls"},
		},
		{
			name: "auto falls back to USER", opts: fakepop3.Options{Implicit: true, SASL: []string{"GSSAPI"}}, mode: probe.TLSImplicit,
			cfg:    func(t *testing.T, c *probe.Config) { *c = withLogin(*c, "auto") },
			phases: []string{"connect", "tls", "greeting", "capabilities", "auth", "quit"},
			auth:   "USER", tlsMode: probe.TLSImplicit,
			received: []string{"CAPA+tls", "USER+tls", "PASS+tls", "QUIT+tls"},
		},
		{
			name: "auto assumes USER when CAPA fails", opts: fakepop3.Options{Implicit: true, FailCapa: true}, mode: probe.TLSImplicit,
			cfg:    func(t *testing.T, c *probe.Config) { *c = withLogin(*c, "") },
			phases: []string{"connect", "tls", "greeting", "capabilities", "auth", "quit"},
			auth:   "USER", tlsMode: probe.TLSImplicit,
			received: []string{"CAPA+tls", "USER+tls", "PASS+tls", "QUIT+tls"},
		},
		{
			name: "starttls asked of a server without CAPA", opts: fakepop3.Options{STLS: true, FailCapa: true}, mode: probe.TLSStartTLS,
			phases:  []string{"connect", "greeting", "capabilities", "starttls", "tls", "capabilities_tls", "quit"},
			tlsMode: probe.TLSStartTLS, received: []string{"CAPA", "STLS", "CAPA+tls", "QUIT+tls"},
		},
		{
			name: "SASL PLAIN", opts: fakepop3.Options{Implicit: true, SASL: []string{"PLAIN"}}, mode: probe.TLSImplicit,
			cfg:  func(t *testing.T, c *probe.Config) { *c = withLogin(*c, "PLAIN") },
			auth: "PLAIN", tlsMode: probe.TLSImplicit,
			received: []string{"CAPA+tls", "AUTH+tls", "QUIT+tls"},
		},
		{
			name: "SASL LOGIN", opts: fakepop3.Options{Implicit: true, SASL: []string{"PLAIN", "LOGIN"}}, mode: probe.TLSImplicit,
			cfg:  func(t *testing.T, c *probe.Config) { *c = withLogin(*c, "login") },
			auth: "LOGIN", tlsMode: probe.TLSImplicit,
			received: []string{"CAPA+tls", "AUTH+tls", "<sasl>+tls", "<sasl>+tls", "QUIT+tls"},
		},
		{
			name: "CRAM-MD5 without TLS when allowed", opts: fakepop3.Options{SASL: []string{"CRAM-MD5"}}, mode: probe.TLSNone,
			cfg: func(t *testing.T, c *probe.Config) {
				*c = withLogin(*c, "CRAM-MD5")
				c.AllowPlaintextAuth = true
			},
			auth: "CRAM-MD5", tlsMode: probe.TLSNone,
			received: []string{"CAPA", "AUTH", "<sasl>", "QUIT"},
		},
		{
			name: "XOAUTH2 with the token from a file", opts: fakepop3.Options{Implicit: true, SASL: []string{"XOAUTH2"}}, mode: probe.TLSImplicit,
			cfg: func(t *testing.T, c *probe.Config) {
				c.User, c.Auth, c.OAuthToken = user, "XOAUTH2", oauth.Source{File: tokenFile(t, token)}
			},
			auth: "XOAUTH2", tlsMode: probe.TLSImplicit, received: []string{"CAPA+tls", "AUTH+tls", "QUIT+tls"},
		},
		{
			name: "OAUTHBEARER with the token from a command", opts: fakepop3.Options{STLS: true, SASL: []string{"OAUTHBEARER"}}, mode: probe.TLSStartTLS,
			cfg: func(t *testing.T, c *probe.Config) {
				c.User, c.Auth, c.OAuthToken = user, "OAUTHBEARER", oauth.Source{Command: tokenCommand(t, token)}
			},
			auth: "OAUTHBEARER", tlsMode: probe.TLSStartTLS,
			received: []string{"CAPA", "STLS", "CAPA+tls", "AUTH+tls", "QUIT+tls"},
		},
		{
			name: "auto with a token picks OAUTHBEARER", opts: fakepop3.Options{Implicit: true, SASL: []string{"PLAIN", "XOAUTH2", "OAUTHBEARER"}}, mode: probe.TLSImplicit,
			cfg: func(t *testing.T, c *probe.Config) {
				c.User, c.OAuthToken = user, oauth.Source{File: tokenFile(t, token)}
			},
			auth: "OAUTHBEARER", tlsMode: probe.TLSImplicit,
		},
		{
			name: "auto with a token and only XOAUTH2", opts: fakepop3.Options{Implicit: true, SASL: []string{"PLAIN", "XOAUTH2"}}, mode: probe.TLSImplicit,
			cfg: func(t *testing.T, c *probe.Config) {
				c.User, c.OAuthToken = user, oauth.Source{Command: tokenCommand(t, token)}
			},
			auth: "XOAUTH2", tlsMode: probe.TLSImplicit,
		},
		{
			name: "XOAUTH2 token too long for the AUTH line",
			opts: fakepop3.Options{Implicit: true, SASL: []string{"XOAUTH2"}, Users: []fakepop3.User{{Name: user, Token: long}}},
			mode: probe.TLSImplicit,
			cfg: func(t *testing.T, c *probe.Config) {
				c.User, c.Auth, c.OAuthToken = user, "XOAUTH2", oauth.Source{File: tokenFile(t, long)}
			},
			auth: "XOAUTH2", tlsMode: probe.TLSImplicit,
			received: []string{"CAPA+tls", "AUTH+tls", "<sasl>+tls", "QUIT+tls"},
			check: func(t *testing.T, r *probe.Result, srv *fakepop3.Server) {
				if cmds := srv.Commands(); len(cmds) < 2 || cmds[1].Line != "AUTH XOAUTH2" {
					t.Errorf("the initial response was not held back for the empty challenge: %+v", cmds)
				}
				if strings.Contains(dump(r), long) {
					t.Error("the long token is in the result")
				}
			},
		},
		{
			name: "STAT", opts: fakepop3.Options{Implicit: true}, mode: probe.TLSImplicit,
			cfg: func(t *testing.T, c *probe.Config) {
				*c = withLogin(*c, "")
				c.Stat = true
			},
			phases: []string{"connect", "tls", "greeting", "capabilities", "auth", "stat", "quit"},
			auth:   "USER", tlsMode: probe.TLSImplicit,
			received: []string{"CAPA+tls", "USER+tls", "PASS+tls", "STAT+tls", "QUIT+tls"},
			check: func(t *testing.T, r *probe.Result, srv *fakepop3.Server) {
				if r.Details["messages"] != 2 || r.Details["octets"] != int64(len("Subject: one\r\n\r\nhello\r\n")+len("Subject: two\r\n\r\nworld\r\n")) {
					t.Errorf("details %v", r.Details)
				}
				if n := len(srv.Messages(user)); n != 2 {
					t.Errorf("%d messages left, want 2: STAT must not change the maildrop", n)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leak.Check(t)
			srv := start(t, tt.opts)
			srv.Deliver(user, []byte("Subject: one\n\nhello\n"))
			srv.Deliver(user, []byte("Subject: two\n\nworld\n"))
			cfg := config(srv, tt.mode)
			if tt.cfg != nil {
				tt.cfg(t, &cfg)
			}
			r := run(cfg)
			wantUp(t, r)
			if tt.phases != nil {
				wantPhases(t, r, tt.phases...)
			}
			if tt.tlsMode != "" && r.TLSMode != tt.tlsMode {
				t.Errorf("TLS mode %q, want %q", r.TLSMode, tt.tlsMode)
			}
			if r.Auth != tt.auth {
				t.Errorf("auth mechanism %q, want %q", r.Auth, tt.auth)
			}
			if tt.received != nil {
				wantReceived(t, srv, tt.received...)
			}
			if got := received(srv); len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "QUIT") {
				t.Errorf("the session did not end with QUIT: %q", got)
			}
			noSecrets(t, r, srv)
			if tt.check != nil {
				tt.check(t, r, srv)
			}
		})
	}
}
