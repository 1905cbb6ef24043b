package smtpprobe

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakesmtp"
	"github.com/mailmon/mailmon/internal/testutil/nosecret"
)

// TestNoCredentialWithoutTLS: a server whose STARTTLS was stripped (what a
// man in the middle does) and that offers AUTH gets no credential of any
// form under starttls-optional, and the test says why; with
// allow_plaintext_auth it gets them.
func TestNoCredentialWithoutTLS(t *testing.T) {
	// auth → the mechanism used when allowed: auto prefers a digest.
	ways := map[string]string{"": "CRAM-MD5", "PLAIN": "PLAIN", "LOGIN": "LOGIN", "CRAM-MD5": "CRAM-MD5", "XOAUTH2": "XOAUTH2"}
	nosecret.EachPolicy(t, slices.Sorted(maps.Keys(ways)), func(t *testing.T, auth string, allow bool) {
		way := ways[auth]
		srv := fakesmtp.Start(t, fakesmtp.Options{Accounts: accounts, AllowInsecureAuth: true,
			Mechs: []string{"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"}})
		cfg := probe.Config{Host: srv.Host, Port: srv.Port, TLS: probe.TLSOptional, User: user, Password: password,
			Auth: auth, AllowPlaintextAuth: allow}
		if auth == "XOAUTH2" {
			cfg.Password, cfg.OAuthToken = "", oauth.Source{Command: []string{"echo", token}}
		}
		r := run(t, cfg)
		authed := slices.ContainsFunc(srv.Commands(), func(c string) bool { return strings.HasPrefix(c, "AUTH ") })
		if allow {
			wantUp(t, r)
			if r.Auth != way || !authed {
				t.Errorf("logged in with %q, the server received %q; want %s", r.Auth, srv.Commands(), way)
			}
			return
		}
		wantCode(t, r, probe.TLSUnavailable)
		nosecret.KeptBack(t, r.Error.Detail)
		if authed {
			t.Errorf("the server received AUTH: %q", srv.Commands())
		}
		nosecret.Check(t, "what the server received", strings.Join(srv.Commands(), "\n"),
			append(nosecret.Forms(user, password, token), user))
	})
}

// TestAuthUnsupported: a mechanism the server does not offer is not tried:
// no AUTH is sent, the result is auth_unsupported (not auth_failed, which
// would send an operator to the password) with what is offered, and the
// session ends with QUIT.
func TestAuthUnsupported(t *testing.T) {
	ca := certs.NewCA(t)
	srv := fakesmtp.Start(t, fakesmtp.Options{TLS: certs.ServerConfig(ca.Issue(t, certs.Leaf{})), Accounts: accounts,
		Mechs: []string{"CRAM-MD5", "LOGIN"}})
	r := run(t, probe.Config{Host: srv.Host, Port: srv.Port, TLS: probe.TLSStartTLS, CAFile: ca.File(t), User: user,
		Password: password, Auth: "PLAIN"})
	wantCode(t, r, probe.AuthUnsupported)
	if want := "the server does not offer PLAIN (offered: CRAM-MD5 LOGIN)"; r.Error.Detail != want || r.Error.Phase != "auth" {
		t.Errorf("phase %q, detail %q; want auth, %q", r.Error.Phase, r.Error.Detail, want)
	}
	cmds := srv.Commands()
	if slices.ContainsFunc(cmds, func(c string) bool { return strings.HasPrefix(c, "AUTH") }) || cmds[len(cmds)-1] != "QUIT" {
		t.Errorf("the server received %q: no AUTH, then QUIT", cmds)
	}
}
