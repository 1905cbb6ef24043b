package imapprobe

import (
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakeimap"
	"github.com/mailmon/mailmon/internal/testutil/leak"
)

func TestConfigMissing(t *testing.T) {
	tests := map[string]probe.Config{
		"no host":              {Type: "imap"},
		"mailbox without user": {Type: "imap", Host: "127.0.0.1", Mailbox: "INBOX"},
		"bad mailbox check":    {Type: "imap", Host: "127.0.0.1", User: user, Password: password, TLS: probe.TLSImplicit, Mailbox: "INBOX", MailboxCheck: "fetch"},
		"user without secret":  {Type: "imap", Host: "127.0.0.1", User: user, TLS: probe.TLSImplicit},
		"POP3 mechanism":       {Type: "imap", Host: "127.0.0.1", User: user, Password: password, TLS: probe.TLSImplicit, Auth: "APOP"},
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			r := run(t, cfg)
			wantCode(t, r, probe.ConfigMissing)
			wantPhases(t, r)
		})
	}
}

func TestDNSFailed(t *testing.T) {
	r := run(t, probe.Config{Type: "imap", Host: "nonexistent.invalid", Timeout: 5 * time.Second})
	wantCode(t, r, probe.DNSFailed)
	wantPhases(t, r, "dns")
}

func TestConnectFailed(t *testing.T) {
	leak.Check(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := run(t, probe.Config{Type: "imap", Host: "127.0.0.1", Port: port, Timeout: 5 * time.Second})
	wantCode(t, r, probe.ConnectFailed)
	wantPhases(t, r, "connect")
}

// Refusals in protocol: the code, the phase, the server's words, and a
// polite LOGOUT where the session is still usable.
func TestServiceErrors(t *testing.T) {
	tests := []struct {
		name     string
		server   fakeimap.Options
		cfg      func(*probe.Config)
		phase    string
		reply    string
		commands []string
	}{
		{
			name:   "BYE greeting",
			server: fakeimap.Options{Bye: "Too many connections from your IP"},
			phase:  "greeting", reply: "* BYE Too many connections from your IP",
		},
		{
			name:   "STATUS of a missing mailbox",
			server: fakeimap.Options{InsecureAuth: true},
			cfg: func(c *probe.Config) {
				c.User, c.Password, c.AllowPlaintextAuth, c.Mailbox = user, password, true, "Nope"
			},
			phase: "status", reply: "a2 NO [NONEXISTENT] No such mailbox",
			commands: []string{"AUTHENTICATE", "STATUS", "LOGOUT"},
		},
		{
			name:   "EXAMINE of a missing mailbox",
			server: fakeimap.Options{InsecureAuth: true},
			cfg: func(c *probe.Config) {
				c.User, c.Password, c.AllowPlaintextAuth, c.Mailbox, c.MailboxCheck = user, password, true, "Nope", "select"
			},
			phase: "select", reply: "a2 NO [NONEXISTENT] No such mailbox",
			commands: []string{"AUTHENTICATE", "EXAMINE", "LOGOUT"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leak.Check(t)
			opts := tt.server
			opts.Users = []fakeimap.User{testUser()}
			s := fakeimap.Start(t, opts)
			cfg := config(s, probe.TLSNone)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			r := run(t, cfg)
			wantCode(t, r, probe.ServiceError)
			if r.Error.Phase != tt.phase || r.Error.Reply != tt.reply {
				t.Errorf("phase %q, reply %q; want %q, %q", r.Error.Phase, r.Error.Reply, tt.phase, tt.reply)
			}
			if got := s.Commands(); !slices.Equal(got, tt.commands) {
				t.Errorf("server received %v, want %v", got, tt.commands)
			}
		})
	}
}

func TestTLSUnavailable(t *testing.T) {
	t.Run("STARTTLS required, not offered", func(t *testing.T) {
		leak.Check(t)
		s := fakeimap.Start(t, fakeimap.Options{Users: []fakeimap.User{testUser()}})
		r := run(t, config(s, probe.TLSStartTLS))
		wantCode(t, r, probe.TLSUnavailable)
		wantPhases(t, r, "connect", "greeting", "capabilities", "starttls")
		if got := s.Commands(); !slices.Equal(got, []string{"LOGOUT"}) {
			t.Errorf("server received %v, want a polite LOGOUT only", got)
		}
	})
	t.Run("PREAUTH leaves no way to STARTTLS", func(t *testing.T) {
		leak.Check(t)
		env := newTLS(t)
		s := fakeimap.Start(t, fakeimap.Options{Users: []fakeimap.User{testUser()}, PreAuth: user, TLSConfig: env.server(t)})
		r := run(t, config(s, probe.TLSStartTLS))
		wantCode(t, r, probe.TLSUnavailable)
		if got := s.Commands(); slices.Contains(got, "STARTTLS") {
			t.Errorf("STARTTLS sent after PREAUTH: %v", got)
		}
	})
	t.Run("credentials not sent in the clear", func(t *testing.T) {
		leak.Check(t)
		s := fakeimap.Start(t, fakeimap.Options{Users: []fakeimap.User{testUser()}, InsecureAuth: true})
		cfg := config(s, probe.TLSOptional)
		cfg.User, cfg.Password = user, password
		r := run(t, cfg)
		wantCode(t, r, probe.TLSUnavailable)
		if r.Error.Phase != "auth" {
			t.Errorf("phase %q", r.Error.Phase)
		}
		if got := s.Commands(); !slices.Equal(got, []string{"LOGOUT"}) {
			t.Errorf("server received %v, want no login and a polite LOGOUT", got)
		}
	})
}

func TestTLSFailed(t *testing.T) {
	leak.Check(t)
	// Implicit TLS to a server that speaks plaintext: its greeting is no
	// TLS record.
	s := fakeimap.Start(t, fakeimap.Options{Users: []fakeimap.User{testUser()}})
	r := run(t, config(s, probe.TLSImplicit))
	wantCode(t, r, probe.TLSFailed)
	wantPhases(t, r, "connect", "tls")
}

func TestCertInvalid(t *testing.T) {
	env := newTLS(t)
	tests := []struct {
		name     string
		cert     tls.Certificate
		implicit bool
		noCA     bool
	}{
		{name: "expired, STARTTLS", cert: env.ca.Expired(t)},
		{name: "expired, implicit", cert: env.ca.Expired(t), implicit: true},
		{name: "other host, STARTTLS", cert: env.ca.OtherHost(t)},
		{name: "other host, implicit", cert: env.ca.OtherHost(t), implicit: true},
		{name: "untrusted CA", cert: env.ca.Issue(t, certs.Leaf{}), implicit: true, noCA: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leak.Check(t)
			s := fakeimap.Start(t, fakeimap.Options{Users: []fakeimap.User{testUser()}, TLSConfig: certs.ServerConfig(tt.cert), Implicit: tt.implicit})
			mode := probe.TLSStartTLS
			if tt.implicit {
				mode = probe.TLSImplicit
			}
			cfg := config(s, mode)
			if !tt.noCA {
				cfg.CAFile = env.caFile
			}
			cfg.User, cfg.Password = user, password
			r := run(t, cfg)
			wantCode(t, r, probe.CertInvalid)
			if r.Error.Phase != "tls" {
				t.Errorf("phase %q", r.Error.Phase)
			}
			if r.TLS == nil || r.TLS.CertNotAfter.IsZero() || r.TLS.CertSubject == "" || r.TLS.Verified {
				t.Errorf("TLS facts missing: %+v", r.TLS)
			}
			if !tt.cert.Leaf.NotAfter.UTC().Equal(r.TLS.CertNotAfter) {
				t.Errorf("cert_not_after %v, want %v", r.TLS.CertNotAfter, tt.cert.Leaf.NotAfter.UTC())
			}
			if slices.ContainsFunc(s.Commands(), func(c string) bool { return c == "LOGIN" || c == "AUTHENTICATE" }) {
				t.Errorf("credentials sent over an untrusted connection: %v", s.Commands())
			}
		})
	}
}

func TestAuthFailed(t *testing.T) {
	env := newTLS(t)
	badToken := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(badToken, []byte("not-the-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	const wrong = "Wrong-pa55-s3cret"
	tests := []struct {
		name     string
		server   fakeimap.Options
		cfg      func(*probe.Config)
		commands []string
		code     probe.Code // "": auth_failed
		detail   string
	}{
		{
			name: "LOGIN, wrong password", server: fakeimap.Options{TLSConfig: env.server(t), Implicit: true},
			cfg:      func(c *probe.Config) { c.User, c.Password, c.Auth = user, wrong, "LOGIN" },
			commands: []string{"LOGIN", "LOGOUT"},
		},
		{
			name: "PLAIN, wrong password", server: fakeimap.Options{TLSConfig: env.server(t), Implicit: true},
			cfg:      func(c *probe.Config) { c.User, c.Password = user, wrong },
			commands: []string{"AUTHENTICATE", "LOGOUT"},
		},
		{
			name: "PLAIN, unknown user", server: fakeimap.Options{TLSConfig: env.server(t), Implicit: true},
			cfg:      func(c *probe.Config) { c.User, c.Password, c.Auth = "nobody@example.com", wrong, "PLAIN" },
			commands: []string{"AUTHENTICATE", "LOGOUT"},
		},
		{
			name: "XOAUTH2, bad token", server: fakeimap.Options{TLSConfig: env.server(t), Implicit: true, Mechanisms: []string{"XOAUTH2"}},
			cfg: func(c *probe.Config) {
				c.User, c.Auth, c.OAuthToken = user, "XOAUTH2", oauth.Source{File: badToken}
			},
			commands: []string{"AUTHENTICATE", "LOGOUT"},
		},
		{
			name: "OAUTHBEARER, bad token", server: fakeimap.Options{TLSConfig: env.server(t), Implicit: true, Mechanisms: []string{"OAUTHBEARER"}},
			cfg: func(c *probe.Config) {
				c.User, c.OAuthToken = user, oauth.Source{File: badToken}
			},
			commands: []string{"AUTHENTICATE", "LOGOUT"},
		},
		{
			name: "CRAM-MD5, wrong password", server: fakeimap.Options{InsecureAuth: true, Mechanisms: []string{"CRAM-MD5"}},
			cfg: func(c *probe.Config) {
				c.TLS, c.User, c.Password, c.Auth, c.AllowPlaintextAuth = probe.TLSNone, user, wrong, "CRAM-MD5", true
			},
			commands: []string{"AUTHENTICATE", "LOGOUT"},
		},
		// What the monitor asks for is not offered: no credential is sent,
		// and the result is auth_unsupported, naming what is.
		{
			name: "mechanism not offered", server: fakeimap.Options{TLSConfig: env.server(t), Implicit: true},
			cfg:  func(c *probe.Config) { c.User, c.Password, c.Auth = user, password, "CRAM-MD5" },
			code: probe.AuthUnsupported, commands: []string{"LOGOUT"},
			detail: "does not offer CRAM-MD5 (offered: AUTH=PLAIN LOGIN command)",
		},
		{
			name: "a token and no OAuth mechanism", server: fakeimap.Options{TLSConfig: env.server(t), Implicit: true},
			cfg: func(c *probe.Config) {
				c.User, c.OAuthToken = user, oauth.Source{Command: []string{"echo", "tok"}}
			},
			code: probe.AuthUnsupported, commands: []string{"LOGOUT"},
			detail: "XOAUTH2 or OAUTHBEARER (offered: AUTH=PLAIN LOGIN command)",
		},
		{
			name: "LOGINDISABLED and nothing else", server: fakeimap.Options{},
			cfg: func(c *probe.Config) {
				c.TLS, c.User, c.Password, c.AllowPlaintextAuth = probe.TLSNone, user, password, true
			},
			code: probe.AuthUnsupported, commands: []string{"LOGOUT"},
			detail: "LOGINDISABLED and no AUTH=PLAIN (offered: none)",
		},
		{
			name: "LOGIN asked, LOGINDISABLED", server: fakeimap.Options{},
			cfg: func(c *probe.Config) {
				c.TLS, c.User, c.Password, c.Auth, c.AllowPlaintextAuth = probe.TLSNone, user, password, "LOGIN", true
			},
			code: probe.AuthUnsupported, commands: []string{"LOGOUT"},
			detail: "does not offer the LOGIN command: the server says LOGINDISABLED (offered: none)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leak.Check(t)
			s, cfg := authCase(t, env, tt.server, tt.cfg)
			r := run(t, cfg)
			if tt.code == "" {
				tt.code = probe.AuthFailed
			}
			wantCode(t, r, tt.code)
			if r.Error.Phase != "auth" || r.Auth != "" {
				t.Errorf("phase %q, auth %q", r.Error.Phase, r.Auth)
			}
			if !strings.Contains(r.Error.Detail, tt.detail) {
				t.Errorf("detail %q, want %q", r.Error.Detail, tt.detail)
			}
			if got := s.Commands(); !slices.Equal(got, tt.commands) {
				t.Errorf("server received %v, want %v", got, tt.commands)
			}
			checkResult(t, r, wrong, "not-the-token")
		})
	}
}

// authCase starts a fake with the test user and returns it with the config
// of a check of it (implicit TLS when the fake has it, none otherwise),
// changed by fn.
func authCase(t *testing.T, env *tlsEnv, opts fakeimap.Options, fn func(*probe.Config)) (*fakeimap.Server, probe.Config) {
	t.Helper()
	opts.Users = []fakeimap.User{testUser()}
	s := fakeimap.Start(t, opts)
	mode := probe.TLSImplicit
	if !opts.Implicit {
		mode = probe.TLSNone
	}
	cfg := config(s, mode)
	cfg.CAFile = env.caFile
	fn(&cfg)
	return s, cfg
}
