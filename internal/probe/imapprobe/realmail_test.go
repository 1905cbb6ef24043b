package imapprobe

import (
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

func TestMain(m *testing.M) { realmail.Main(m) }

// TestDovecot runs the probe against a real Dovecot: what the fake
// promises, a real server must keep.
func TestDovecot(t *testing.T) {
	e := realmail.Start(t)
	type tc struct {
		name    string
		host    string
		port    int
		mode    probe.TLSMode
		auth    string // "" no login
		allow   bool
		badPass bool
		mailbox string
		check   string
		code    probe.Code
		phase   string
		negot   probe.TLSMode
		mech    string
	}
	tests := []tc{
		{name: "143, plain, banner only", port: e.IMAP, mode: probe.TLSNone, negot: probe.TLSNone},
		{name: "143, STARTTLS, LOGIN", port: e.IMAP, mode: probe.TLSStartTLS, auth: "LOGIN", negot: probe.TLSStartTLS, mech: "LOGIN"},
		{name: "143, STARTTLS, AUTHENTICATE PLAIN", port: e.IMAP, mode: probe.TLSStartTLS, auth: "PLAIN", negot: probe.TLSStartTLS, mech: "PLAIN"},
		{name: "143, STARTTLS if offered, auto, STATUS INBOX", port: e.IMAP, mode: probe.TLSOptional, auth: "auto", mailbox: "INBOX", check: "status", negot: probe.TLSStartTLS, mech: "PLAIN"},
		{name: "993, LOGIN, EXAMINE INBOX", port: e.IMAPS, mode: probe.TLSImplicit, auth: "LOGIN", mailbox: "INBOX", check: "select", negot: probe.TLSImplicit, mech: "LOGIN"},
		{name: "993, AUTHENTICATE PLAIN, STATUS Junk", port: e.IMAPS, mode: probe.TLSImplicit, auth: "PLAIN", mailbox: "Junk", check: "status", negot: probe.TLSImplicit, mech: "PLAIN"},
		{name: "143 without TLS, CRAM-MD5 keeps the password off the wire", port: e.IMAP, mode: probe.TLSNone, auth: "auto", allow: true, negot: probe.TLSNone, mech: "CRAM-MD5"},
		{name: "wrong password", port: e.IMAPS, mode: probe.TLSImplicit, auth: "PLAIN", badPass: true, code: probe.AuthFailed, phase: "auth"},
		{name: "missing mailbox", port: e.IMAPS, mode: probe.TLSImplicit, auth: "LOGIN", mailbox: "NoSuchFolder", check: "status", code: probe.ServiceError, phase: "status", mech: "LOGIN"},
		{name: "implicit TLS on the STARTTLS port", port: e.IMAP, mode: probe.TLSImplicit, code: probe.TLSFailed, phase: "tls"},
	}
	if e.IPv6 {
		tests = append(tests, tc{name: "IPv6, 993, auto", host: "::1", port: e.IMAPS, mode: probe.TLSImplicit, auth: "auto", negot: probe.TLSImplicit, mech: "PLAIN"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := probe.Config{Type: "imap", Host: tt.host, Port: tt.port, TLS: tt.mode, CAFile: e.CAFile, ServerName: e.ServerName,
				Timeout: 5 * time.Second, AllowPlaintextAuth: tt.allow, Mailbox: tt.mailbox, MailboxCheck: tt.check}
			if cfg.Host == "" {
				cfg.Host = "127.0.0.1"
			}
			if tt.auth != "" {
				cfg.User, cfg.Password, cfg.Auth = e.User, probe.Password(e.Password), tt.auth
				if tt.badPass {
					cfg.Password = "wrong-password-value"
				}
			}
			r := run(t, cfg)
			if tt.code == "" {
				wantUp(t, r)
				if r.TLSMode != tt.negot {
					t.Errorf("negotiated %q, want %q", r.TLSMode, tt.negot)
				}
				if tt.negot != probe.TLSNone && (r.TLS == nil || r.TLS.Version == "" || !r.TLS.Verified || r.TLS.CertSubject == "") {
					t.Errorf("TLS facts: %+v", r.TLS)
				}
				if _, ok := r.Details["messages"]; tt.mailbox != "" && !ok {
					t.Errorf("no message count: %v", r.Details)
				}
			} else {
				wantCode(t, r, tt.code)
				if r.Error.Phase != tt.phase {
					t.Errorf("phase %q, want %q", r.Error.Phase, tt.phase)
				}
			}
			if r.Auth != tt.mech {
				t.Errorf("auth mechanism %q, want %q", r.Auth, tt.mech)
			}
			checkResult(t, r, e.Password, "wrong-password-value")
			if t.Failed() {
				t.Log(e.LogTail())
			}
		})
	}
}
