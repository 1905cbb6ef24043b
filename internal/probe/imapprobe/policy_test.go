package imapprobe

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/fakeimap"
	"github.com/mailmon/mailmon/internal/testutil/nosecret"
)

// TestNoCredentialWithoutTLS: a server whose STARTTLS was stripped (what a
// man in the middle does) and that offers LOGIN and AUTHENTICATE gets no
// credential of any form under starttls-optional, and the test says why;
// with allow_plaintext_auth it gets them.
func TestNoCredentialWithoutTLS(t *testing.T) {
	// auth → the way used when allowed: auto prefers a digest.
	ways := map[string]string{"": "CRAM-MD5", "LOGIN": "LOGIN", "PLAIN": "PLAIN", "CRAM-MD5": "CRAM-MD5", "XOAUTH2": "XOAUTH2"}
	nosecret.EachPolicy(t, slices.Sorted(maps.Keys(ways)), func(t *testing.T, auth string, allow bool) {
		way := ways[auth]
		s := fakeimap.Start(t, fakeimap.Options{Users: []fakeimap.User{testUser()}, InsecureAuth: true,
			Mechanisms: []string{"PLAIN", "CRAM-MD5", "XOAUTH2"}})
		cfg := config(s, probe.TLSOptional)
		cfg.User, cfg.Password, cfg.Auth, cfg.AllowPlaintextAuth = user, password, auth, allow
		if auth == "XOAUTH2" {
			cfg.Password, cfg.OAuthToken = "", oauth.Source{Command: []string{"echo", token}}
		}
		r := run(t, cfg)
		if allow {
			wantUp(t, r)
			want := "AUTHENTICATE"
			if way == "LOGIN" {
				want = "LOGIN"
			}
			if got := s.Commands(); r.Auth != way || !slices.Contains(got, want) {
				t.Errorf("logged in with %q, the server received %q; want %s with %s", r.Auth, got, way, want)
			}
			return
		}
		wantCode(t, r, probe.TLSUnavailable)
		nosecret.KeptBack(t, r.Error.Detail)
		if got := s.Commands(); !slices.Equal(got, []string{"LOGOUT"}) {
			t.Errorf("the server received %q, want only LOGOUT", got)
		}
		nosecret.Check(t, "what the server received", strings.Join(s.ClientLines(), "\n"),
			append(nosecret.Forms(user, password, token), user))
	})
}
