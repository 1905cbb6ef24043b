package pop3probe

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/fakepop3"
	"github.com/mailmon/mailmon/internal/testutil/nosecret"
)

// TestNoCredentialWithoutTLS: a server whose STLS was stripped (what a man
// in the middle does) and that offers every way of logging in gets no
// credential of any form under starttls-optional, and the test says why;
// with allow_plaintext_auth it gets them.
func TestNoCredentialWithoutTLS(t *testing.T) {
	// auth → the mechanism used when allowed (auto prefers a digest) and
	// the command that carries the credential.
	ways := map[string][2]string{"": {"CRAM-MD5", "AUTH"}, "USER": {"USER", "PASS"}, "APOP": {"APOP", "APOP"},
		"PLAIN": {"PLAIN", "AUTH"}, "LOGIN": {"LOGIN", "AUTH"}, "CRAM-MD5": {"CRAM-MD5", "AUTH"}, "XOAUTH2": {"XOAUTH2", "AUTH"}}
	nosecret.EachPolicy(t, slices.Sorted(maps.Keys(ways)), func(t *testing.T, auth string, allow bool) {
		way := ways[auth]
		srv := start(t, fakepop3.Options{APOP: true, SASL: []string{"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"}})
		cfg := withLogin(config(srv, probe.TLSOptional), auth)
		if auth == "XOAUTH2" {
			cfg.Password, cfg.OAuthToken = "", oauth.Source{File: tokenFile(t, token)}
		}
		cfg.AllowPlaintextAuth = allow
		r := run(cfg)
		if allow {
			wantUp(t, r)
			if got := received(srv); r.Auth != way[0] || !slices.Contains(got, way[1]) {
				t.Errorf("logged in with %q, the server received %q; want %s with %s", r.Auth, got, way[0], way[1])
			}
			return
		}
		wantCode(t, r, probe.TLSUnavailable)
		nosecret.KeptBack(t, r.Error.Detail)
		wantReceived(t, srv, "CAPA", "QUIT")
		nosecret.Check(t, "what the server received", strings.Join(srv.Lines(), "\n"),
			append(nosecret.Forms(user, password, token), user))
	})
}
