package oauth_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/testutil/oauthsrv"
)

const saEmail = "probe-monitor@mailmon-test.iam.gserviceaccount.com"

// TestServiceAccountJWTGrant: a Google service account's key gets a
// token for the subject by the JWT bearer grant (RFC 7523), which the
// server verifies (RS256 signature against the account's key, iss, sub,
// scope, aud = the token URL, exp/iat); cached like the other grants.
// Refusals say what a person does: unauthorized_client is domain-wide
// delegation not granted for this client id and scope.
func TestServiceAccountJWTGrant(t *testing.T) {
	srv, ca := server(t, time.Hour)
	key := srv.NewServiceAccount(t, saEmail, "https://mail.google.com/")
	flow := func(key, subject string, scopes ...string) *oauth.Flow {
		return &oauth.Flow{TokenURL: "https://oauth2.googleapis.com/token", ServiceAccountKey: key, Subject: subject, Scopes: scopes,
			CAFile: ca, Cache: &oauth.Cache{}}
	}
	f := flow(key, mailbox, "https://mail.google.com/")
	tok, err := f.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if user, ok := srv.Active(tok); !ok || user != mailbox {
		t.Errorf("the token is for %q (active %v), want the subject %s", user, ok, mailbox)
	}
	if again, _ := f.Token(t.Context()); again != tok || srv.Requests(oauthsrv.JWTBearer) != 1 {
		t.Errorf("not cached: %d requests", srv.Requests(oauthsrv.JWTBearer))
	}

	_, err = flow(key, mailbox, "https://www.googleapis.com/auth/gmail.readonly").Token(t.Context())
	if oe := (*oauth.Error)(nil); !errors.As(err, &oe) || oe.Code != "unauthorized_client" ||
		!strings.Contains(err.Error(), "domain-wide delegation is not granted for this client id and scope") {
		t.Errorf("a scope not delegated: %v", err)
	}
	// Another key under the account's name: the signature does not verify.
	forged := srv.NewServiceAccount(t, "other@mailmon-test.iam.gserviceaccount.com", "https://mail.google.com/")
	forged = strings.Replace(forged, "other@mailmon-test.iam.gserviceaccount.com", saEmail, 1)
	_, err = flow(forged, mailbox, "https://mail.google.com/").Token(t.Context())
	if oe := (*oauth.Error)(nil); !errors.As(err, &oe) || oe.Code != "invalid_grant" || !strings.Contains(err.Error(), "Invalid JWT Signature") {
		t.Errorf("a key not the account's: %v", err)
	}
	for name, c := range map[string]struct{ key, subject, want string }{
		"not JSON":            {"-----BEGIN PRIVATE KEY-----", mailbox, "not JSON"},
		"an OAuth client's":   {`{"installed":{"client_id":"x"}}`, mailbox, "not service_account"},
		"token_uri over http": {strings.Replace(key, srv.URL, "http://login.example.com", 1), mailbox, "unencrypted"},
		"no subject":          {key, "", "needs the subject"},
	} {
		_, err := flow(c.key, c.subject, "https://mail.google.com/").Token(t.Context())
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "PRIVATE KEY-----\n") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A key set over the network: its token_uri is dialled through the
	// egress policy (loopback is not allowed by default).
	held := flow(key, mailbox, "https://mail.google.com/")
	held.Egress = egress.Default()
	if _, err := held.Token(t.Context()); !errors.Is(err, egress.ErrRefused) {
		t.Errorf("a loopback token_uri over the network: %v", err)
	}
	if n := srv.Requests(oauthsrv.JWTBearer); n != 3 {
		t.Errorf("%d JWT requests, want 3 (a bad key or URL sends nothing)", n)
	}
}
