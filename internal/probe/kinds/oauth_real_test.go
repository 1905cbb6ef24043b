package kinds_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/oauthsrv"
	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

// TestOAuthAgainstRealDovecot: real Dovecot, whose oauth2 passdb asks the
// test authorization server (RFC 7662 introspection over HTTPS with a
// test CA) whether a token is good, accepts or refuses mailmon's tokens
// over IMAP and POP3 with XOAUTH2 and OAUTHBEARER; Postfix's submission
// authenticates through that Dovecot for a round trip. mailmon fetches
// the tokens itself (client credentials), every test through one cache:
// one token request for all of them.
func TestOAuthAgainstRealDovecot(t *testing.T) {
	ca := certs.NewCA(t)
	srv := oauthsrv.New(t, ca, time.Hour)
	e := realmail.StartWith(t, realmail.Options{OAuth2: &realmail.OAuth2{
		IntrospectURL: strings.Replace(srv.IntrospectURL(), "127.0.0.1", "localhost", 1), CA: ca.PEM}})
	const clientID, secret = "app-1", "Zr8Q~client.secret.value"
	srv.AddClient(oauthsrv.Client{ID: clientID, Secret: secret, Mailbox: e.User})
	srv.AddClient(oauthsrv.Client{ID: "app-other", Secret: secret, Mailbox: e.User2})
	caFile := ca.File(t)
	cache := &oauth.Cache{}
	flow := func(id, sec string) oauth.Source {
		return oauth.Source{Flow: &oauth.Flow{TokenURL: srv.TokenURL(), ClientID: id, ClientSecret: sec,
			Scopes: []string{"https://outlook.office365.com/.default"}, Cache: cache, CAFile: caFile}}
	}
	mailCA := e.CAFile
	cfg := func(typ string, port int, mech string, src oauth.Source) probe.Config {
		return probe.Config{Type: typ, Host: "127.0.0.1", Port: port, TLS: probe.TLSImplicit, CAFile: mailCA, ServerName: e.ServerName,
			User: e.User, Auth: mech, OAuthToken: src, Timeout: 20 * time.Second}
	}
	run := func(t *testing.T, c probe.Config) *probe.Result {
		t.Helper()
		k, ok := kinds.Lookup(c.Type)
		if !ok {
			t.Fatalf("no kind %s", c.Type)
		}
		r := probe.Run(context.Background(), k, c)
		b, _ := json.Marshal(r)
		for _, s := range append(srv.Issued(), secret) {
			if strings.Contains(string(b), s) {
				t.Errorf("the result shows a token or the secret:\n%s", b)
			}
		}
		return r
	}
	good := flow(clientID, secret)
	for _, c := range []struct {
		typ  string
		port int
		mech string
	}{
		{"imap", e.IMAPS, "XOAUTH2"}, {"imap", e.IMAPS, "OAUTHBEARER"},
		{"pop3", e.POP3S, "XOAUTH2"}, {"pop3", e.POP3S, "OAUTHBEARER"},
	} {
		t.Run(c.typ+" "+c.mech+" accepted", func(t *testing.T) {
			r := run(t, cfg(c.typ, c.port, c.mech, good))
			if r.Status != probe.StatusUp || r.Auth != c.mech {
				t.Fatalf("%s %s: %+v %+v\n%s", c.typ, c.mech, r.Status, r.Error, e.LogTail())
			}
		})
	}
	t.Run("round trip, submission through Dovecot's SASL", func(t *testing.T) {
		c := cfg("imap-roundtrip", e.IMAPS, "XOAUTH2", good)
		c.To, c.From, c.Monitor, c.InstallationKey = e.User, e.User, "oauth", keyfile.Key("0123456789abcdef0123456789abcdef")
		c.SMTP = &probe.Config{Host: "127.0.0.1", Port: e.Submission, TLS: probe.TLSStartTLS, CAFile: mailCA, ServerName: e.ServerName,
			User: e.User, Auth: "XOAUTH2", OAuthToken: good}
		r := run(t, c)
		if r.Status != probe.StatusUp {
			t.Fatalf("round trip: %+v %+v\n%s", r.Status, r.Error, e.LogTail())
		}
	})
	if n := srv.Requests("client_credentials"); n != 1 {
		t.Errorf("%d token requests for 5 tests of one credential, want 1", n)
	}

	t.Run("another mailbox's token refused, the challenge decoded", func(t *testing.T) {
		for _, mech := range []string{"XOAUTH2", "OAUTHBEARER"} {
			r := run(t, cfg("imap", e.IMAPS, mech, flow("app-other", secret)))
			if r.Error == nil || r.Error.Code != probe.AuthFailed || !strings.Contains(r.Error.Detail, "the server's OAuth error: status") {
				t.Errorf("%s: %+v", mech, r.Error)
			}
		}
	})
	t.Run("a revoked token refused", func(t *testing.T) {
		src := flow(clientID, secret)
		src.Flow.Cache = nil
		for _, tok := range srv.Issued() {
			srv.Revoke(tok)
		}
		r := run(t, cfg("pop3", e.POP3S, "XOAUTH2", oauth.Source{Flow: &oauth.Flow{TokenURL: srv.TokenURL(), ClientID: clientID,
			ClientSecret: secret, CAFile: caFile}}))
		if r.Status != probe.StatusUp {
			t.Errorf("a fresh token after revocation: %+v", r.Error)
		}
		r = run(t, cfg("pop3", e.POP3S, "XOAUTH2", good)) // the cache's token, revoked at the server
		if r.Error == nil || r.Error.Code != probe.AuthFailed {
			t.Errorf("a revoked token: %+v", r.Error)
		}
	})
	t.Run("invalid_client: the endpoint's description, no secret", func(t *testing.T) {
		r := run(t, cfg("imap", e.IMAPS, "XOAUTH2", flow(clientID, "wrong-secret-value")))
		if r.Error == nil || r.Error.Code != probe.AuthFailed || !strings.Contains(r.Error.Detail, "AADSTS7000215: Invalid client secret provided") ||
			strings.Contains(r.Error.Detail, "wrong-secret-value") {
			t.Errorf("%+v", r.Error)
		}
	})
}
