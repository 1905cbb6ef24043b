package imapprobe

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/fakeimap"
	"github.com/mailmon/mailmon/internal/testutil/leak"
)

func TestProbeSuccess(t *testing.T) {
	env := newTLS(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A token command: a tiny script run directly, never through "sh -c".
	tokenCmd := filepath.Join(t.TempDir(), "token.sh")
	if err := os.WriteFile(tokenCmd, []byte("#!/bin/sh\necho '"+token+"'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	sslIR := regexp.MustCompile(`^a\d+ AUTHENTICATE PLAIN \S+$`)
	noIR := regexp.MustCompile(`^a\d+ AUTHENTICATE PLAIN$`)

	tests := []struct {
		name     string
		server   fakeimap.Options
		tls      probe.TLSMode
		cfg      func(*probe.Config)
		mode     probe.TLSMode // negotiated
		auth     string
		phases   []string
		commands []string // what the server received, in order
		lines    *regexp.Regexp
		details  map[string]any
	}{
		{
			name: "none, no login", tls: probe.TLSNone, mode: probe.TLSNone,
			phases:   []string{"connect", "greeting", "capabilities", "quit"},
			commands: []string{"LOGOUT"},
		},
		{
			name: "starttls-optional without STARTTLS", tls: probe.TLSOptional, mode: probe.TLSNone,
			phases:   []string{"connect", "greeting", "capabilities", "quit"},
			commands: []string{"LOGOUT"},
		},
		{
			name: "starttls-optional with STARTTLS", tls: probe.TLSOptional, mode: probe.TLSStartTLS,
			server:   fakeimap.Options{TLSConfig: env.server(t)},
			phases:   []string{"connect", "greeting", "capabilities", "starttls", "tls", "capabilities_tls", "quit"},
			commands: []string{"STARTTLS", "CAPABILITY", "LOGOUT"},
		},
		{
			name: "starttls, LOGIN command", tls: probe.TLSStartTLS, mode: probe.TLSStartTLS, auth: "LOGIN",
			server: fakeimap.Options{TLSConfig: env.server(t)},
			cfg: func(c *probe.Config) {
				c.User, c.Password, c.Auth = user, password, "LOGIN"
			},
			phases:   []string{"connect", "greeting", "capabilities", "starttls", "tls", "capabilities_tls", "auth", "quit"},
			commands: []string{"STARTTLS", "CAPABILITY", "LOGIN", "LOGOUT"},
		},
		{
			name: "starttls, auto picks AUTHENTICATE PLAIN with SASL-IR", tls: probe.TLSStartTLS, mode: probe.TLSStartTLS, auth: "PLAIN",
			server: fakeimap.Options{TLSConfig: env.server(t)},
			cfg: func(c *probe.Config) {
				c.User, c.Password = user, password
			},
			phases:   []string{"connect", "greeting", "capabilities", "starttls", "tls", "capabilities_tls", "auth", "quit"},
			commands: []string{"STARTTLS", "CAPABILITY", "AUTHENTICATE", "LOGOUT"},
			lines:    sslIR,
		},
		{
			name: "implicit, auto, STATUS of INBOX", tls: probe.TLSImplicit, mode: probe.TLSImplicit, auth: "PLAIN",
			server: fakeimap.Options{TLSConfig: env.server(t), Implicit: true},
			cfg: func(c *probe.Config) {
				c.User, c.Password, c.Mailbox = user, password, "INBOX"
			},
			phases:   []string{"connect", "tls", "greeting", "capabilities", "auth", "status", "quit"},
			commands: []string{"AUTHENTICATE", "STATUS", "LOGOUT"},
			details:  map[string]any{"messages": uint32(2), "unseen": uint32(2), "uidnext": uint32(3)},
		},
		{
			name: "implicit, LOGIN, EXAMINE of Junk", tls: probe.TLSImplicit, mode: probe.TLSImplicit, auth: "LOGIN",
			server: fakeimap.Options{TLSConfig: env.server(t), Implicit: true},
			cfg: func(c *probe.Config) {
				c.User, c.Password, c.Auth, c.Mailbox, c.MailboxCheck = user, password, "login", "Junk", "select"
			},
			phases:   []string{"connect", "tls", "greeting", "capabilities", "auth", "select", "quit"},
			commands: []string{"LOGIN", "EXAMINE", "LOGOUT"},
			details:  map[string]any{"messages": uint32(1), "uidnext": uint32(2)},
		},
		{
			name: "none, PLAIN without SASL-IR", tls: probe.TLSNone, mode: probe.TLSNone, auth: "PLAIN",
			server: fakeimap.Options{InsecureAuth: true, HideCaps: []string{"SASL-IR"}},
			cfg: func(c *probe.Config) {
				c.User, c.Password, c.Auth, c.AllowPlaintextAuth = user, password, "PLAIN", true
			},
			phases:   []string{"connect", "greeting", "capabilities", "auth", "quit"},
			commands: []string{"AUTHENTICATE", "LOGOUT"},
			lines:    noIR,
		},
		{
			name: "XOAUTH2, token from a file", tls: probe.TLSImplicit, mode: probe.TLSImplicit, auth: "XOAUTH2",
			server: fakeimap.Options{TLSConfig: env.server(t), Implicit: true, Mechanisms: []string{"XOAUTH2", "OAUTHBEARER"}},
			cfg: func(c *probe.Config) {
				c.User, c.Auth, c.OAuthToken = user, "XOAUTH2", oauth.Source{File: tokenFile}
			},
			phases:   []string{"connect", "tls", "greeting", "capabilities", "auth", "quit"},
			commands: []string{"AUTHENTICATE", "LOGOUT"},
		},
		{
			name: "OAUTHBEARER by auto, token from a command", tls: probe.TLSStartTLS, mode: probe.TLSStartTLS, auth: "OAUTHBEARER",
			server: fakeimap.Options{TLSConfig: env.server(t), Mechanisms: []string{"XOAUTH2", "OAUTHBEARER"}},
			cfg: func(c *probe.Config) {
				c.User, c.OAuthToken = user, oauth.Source{Command: []string{tokenCmd}}
			},
			phases:   []string{"connect", "greeting", "capabilities", "starttls", "tls", "capabilities_tls", "auth", "quit"},
			commands: []string{"STARTTLS", "CAPABILITY", "AUTHENTICATE", "LOGOUT"},
		},
		{
			name: "XOAUTH2, token from a command", tls: probe.TLSImplicit, mode: probe.TLSImplicit, auth: "XOAUTH2",
			server: fakeimap.Options{TLSConfig: env.server(t), Implicit: true, Mechanisms: []string{"XOAUTH2"}},
			cfg: func(c *probe.Config) {
				c.User, c.OAuthToken = user, oauth.Source{Command: []string{tokenCmd}}
			},
			phases:   []string{"connect", "tls", "greeting", "capabilities", "auth", "quit"},
			commands: []string{"AUTHENTICATE", "LOGOUT"},
		},
		{
			name: "OAUTHBEARER, token from a file", tls: probe.TLSImplicit, mode: probe.TLSImplicit, auth: "OAUTHBEARER",
			server: fakeimap.Options{TLSConfig: env.server(t), Implicit: true, Mechanisms: []string{"OAUTHBEARER"}},
			cfg: func(c *probe.Config) {
				c.User, c.Auth, c.OAuthToken = user, "oauthbearer", oauth.Source{File: tokenFile}
			},
			phases:   []string{"connect", "tls", "greeting", "capabilities", "auth", "quit"},
			commands: []string{"AUTHENTICATE", "LOGOUT"},
		},
		{
			name: "CRAM-MD5 without TLS when allowed", tls: probe.TLSNone, mode: probe.TLSNone, auth: "CRAM-MD5",
			server: fakeimap.Options{InsecureAuth: true, Mechanisms: []string{"CRAM-MD5"}},
			cfg: func(c *probe.Config) {
				c.User, c.Password, c.Auth, c.AllowPlaintextAuth = user, password, "CRAM-MD5", true
			},
			phases:   []string{"connect", "greeting", "capabilities", "auth", "quit"},
			commands: []string{"AUTHENTICATE", "LOGOUT"},
		},
		{
			name: "auto prefers CRAM-MD5 without TLS", tls: probe.TLSNone, mode: probe.TLSNone, auth: "CRAM-MD5",
			server: fakeimap.Options{InsecureAuth: true, Mechanisms: []string{"PLAIN", "CRAM-MD5"}},
			cfg: func(c *probe.Config) {
				c.User, c.Password, c.AllowPlaintextAuth = user, password, true
			},
			phases:   []string{"connect", "greeting", "capabilities", "auth", "quit"},
			commands: []string{"AUTHENTICATE", "LOGOUT"},
		},
		{
			name: "auto falls back to LOGIN", tls: probe.TLSNone, mode: probe.TLSNone, auth: "LOGIN",
			server: fakeimap.Options{InsecureAuth: true, Mechanisms: []string{"XOAUTH2"}},
			cfg: func(c *probe.Config) {
				c.User, c.Password, c.AllowPlaintextAuth = user, password, true
			},
			phases:   []string{"connect", "greeting", "capabilities", "auth", "quit"},
			commands: []string{"LOGIN", "LOGOUT"},
		},
		{
			name: "PREAUTH greeting", tls: probe.TLSNone, mode: probe.TLSNone,
			server: fakeimap.Options{PreAuth: user},
			cfg: func(c *probe.Config) {
				c.User, c.Password, c.AllowPlaintextAuth, c.Mailbox = user, password, true, "INBOX"
			},
			phases:   []string{"connect", "greeting", "capabilities", "status", "quit"},
			commands: []string{"STATUS", "LOGOUT"},
			details:  map[string]any{"preauth": true, "messages": uint32(2)},
		},
		{
			name: "PREAUTH with starttls-optional: no STARTTLS after login", tls: probe.TLSOptional, mode: probe.TLSNone,
			server:   fakeimap.Options{PreAuth: user, TLSConfig: env.server(t)},
			phases:   []string{"connect", "greeting", "capabilities", "quit"},
			commands: []string{"LOGOUT"},
			details:  map[string]any{"preauth": true},
		},
		{
			name: "IMAP4rev2 server, SELECT by EXAMINE", tls: probe.TLSStartTLS, mode: probe.TLSStartTLS, auth: "PLAIN",
			server: fakeimap.Options{TLSConfig: env.server(t), Rev2: true},
			cfg: func(c *probe.Config) {
				c.User, c.Password, c.Mailbox, c.MailboxCheck = user, password, "inbox", "select"
			},
			phases:   []string{"connect", "greeting", "capabilities", "starttls", "tls", "capabilities_tls", "auth", "select", "quit"},
			commands: []string{"STARTTLS", "CAPABILITY", "AUTHENTICATE", "EXAMINE", "LOGOUT"},
			details:  map[string]any{"messages": uint32(2)},
		},
		{
			name: "IPv6, starttls, LOGIN", tls: probe.TLSStartTLS, mode: probe.TLSStartTLS, auth: "LOGIN",
			server: fakeimap.Options{TLSConfig: env.server(t), IPv6: true},
			cfg: func(c *probe.Config) {
				c.User, c.Password, c.Auth = user, password, "LOGIN"
			},
			phases:   []string{"connect", "greeting", "capabilities", "starttls", "tls", "capabilities_tls", "auth", "quit"},
			commands: []string{"STARTTLS", "CAPABILITY", "LOGIN", "LOGOUT"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leak.Check(t)
			opts := tt.server
			opts.Users = []fakeimap.User{testUser()}
			s := fakeimap.Start(t, opts)
			cfg := config(s, tt.tls)
			cfg.CAFile = env.caFile
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			r := run(t, cfg)
			wantUp(t, r)
			wantPhases(t, r, tt.phases...)
			if r.TLSMode != tt.mode {
				t.Errorf("TLS mode %q, want %q", r.TLSMode, tt.mode)
			}
			if (tt.mode != probe.TLSNone) != (r.TLS != nil && r.TLS.Verified) {
				t.Errorf("TLS info %+v", r.TLS)
			}
			if r.Auth != tt.auth {
				t.Errorf("auth mechanism %q, want %q", r.Auth, tt.auth)
			}
			if got := s.Commands(); !slices.Equal(got, tt.commands) {
				t.Errorf("server received %v, want %v", got, tt.commands)
			}
			if s.PlaintextAfterSTARTTLS() {
				t.Error("the client sent plaintext after STARTTLS")
			}
			if tt.lines != nil && !slices.ContainsFunc(s.ClientLines(), tt.lines.MatchString) {
				t.Errorf("no client line matches %s: %q", tt.lines, s.ClientLines())
			}
			for k, v := range tt.details {
				if r.Details[k] != v {
					t.Errorf("detail %s = %#v, want %#v", k, r.Details[k], v)
				}
			}
			if caps, _ := r.Details["capabilities"].([]string); !slices.Contains(caps, "IMAP4rev1") {
				t.Errorf("capabilities detail %v", r.Details["capabilities"])
			}
		})
	}
}

// The LOGIN line is in the transcript with the password redacted.
func TestLoginRedacted(t *testing.T) {
	s := fakeimap.Start(t, fakeimap.Options{InsecureAuth: true, Users: []fakeimap.User{testUser()}})
	cfg := config(s, probe.TLSNone)
	cfg.User, cfg.Password, cfg.Auth, cfg.AllowPlaintextAuth = user, password, "LOGIN", true
	r := run(t, cfg)
	wantUp(t, r)
	transcriptHas(t, r, `C: a1 LOGIN "probe@example.com" [redacted]`)
	if !slices.Contains(s.ClientLines(), `a1 LOGIN "probe@example.com" "`+password+`"`) {
		t.Errorf("server received %q", s.ClientLines())
	}
}

// Open hands back a logged-in session the round-trip monitor can go on
// with.
func TestOpenForReuse(t *testing.T) {
	leak.Check(t)
	s := fakeimap.Start(t, fakeimap.Options{InsecureAuth: true, Users: []fakeimap.User{testUser()}})
	cfg := config(s, probe.TLSNone)
	cfg.User, cfg.Password, cfg.AllowPlaintextAuth = user, password, true
	if err := cfg.Validate(Kind()); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	tr := probe.NewTrace(ctx, nil)
	sess, err := Open(ctx, &cfg, tr)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	mb, err := sess.Client.Select("Junk")
	if err != nil || mb.Exists != 1 {
		t.Fatalf("Select = %+v, %v", mb, err)
	}
	if err := sess.Client.Logout(); err != nil {
		t.Fatal(err)
	}
}
