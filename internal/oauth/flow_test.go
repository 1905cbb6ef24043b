package oauth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/oauth/endpoint"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/oauthsrv"
)

const (
	clientID = "11111111-2222-3333-4444-555555555555"
	secret   = "s3cr3t~client.value"
	mailbox  = "probe@example.com"
	scope    = "https://outlook.office365.com/.default"
)

func server(t *testing.T, lifetime time.Duration) (*oauthsrv.Server, string) {
	t.Helper()
	ca := certs.NewCA(t)
	s := oauthsrv.New(t, ca, lifetime)
	s.AddClient(oauthsrv.Client{ID: clientID, Secret: secret, Mailbox: mailbox})
	return s, ca.File(t)
}

// clock is a test's hand-moved time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestSharedCredentialOneRequestPerExpiry: a hundred monitors of one
// credential testing at once cost one token request; the same again while
// the token is fresh cost none; after it is close to its expiry, one more.
func TestSharedCredentialOneRequestPerExpiry(t *testing.T) {
	srv, ca := server(t, time.Hour)
	clk := &clock{t: time.Now()}
	cache := &oauth.Cache{Now: clk.now}
	round := func() map[string]bool {
		var wg sync.WaitGroup
		var mu sync.Mutex
		seen := map[string]bool{}
		for range 100 {
			f := &oauth.Flow{TokenURL: srv.TokenURL(), ClientID: clientID, ClientSecret: secret, Scopes: []string{scope}, Cache: cache, CAFile: ca}
			wg.Go(func() {
				tok, err := oauth.Source{Flow: f}.Token(t.Context())
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[tok] = true
				mu.Unlock()
			})
		}
		wg.Wait()
		return seen
	}
	if seen := round(); len(seen) != 1 || srv.Requests("client_credentials") != 1 {
		t.Fatalf("100 monitors at once: %d tokens, %d requests; want 1 and 1", len(seen), srv.Requests(""))
	}
	clk.add(50 * time.Minute)
	round()
	if n := srv.Requests(""); n != 1 {
		t.Fatalf("with the token fresh: %d requests, want still 1", n)
	}
	clk.add(9*time.Minute + 30*time.Second) // within a minute of expiry: replaced before it lapses
	if seen := round(); len(seen) != 1 || srv.Requests("") != 2 {
		t.Fatalf("near expiry: %d tokens, %d requests; want 1 and 2", len(seen), srv.Requests(""))
	}
	// Another secret is another credential.
	other := &oauth.Flow{TokenURL: srv.TokenURL(), ClientID: clientID, ClientSecret: "wrong", Scopes: []string{scope}, Cache: cache, CAFile: ca}
	if _, err := other.Token(t.Context()); err == nil {
		t.Fatal("a wrong secret got the cached token")
	}
}

// TestEndpointErrorsSayWhatToDo: the endpoint's error and
// error_description reach the error, with what to do.
func TestEndpointErrorsSayWhatToDo(t *testing.T) {
	srv, ca := server(t, time.Hour)
	f := &oauth.Flow{TokenURL: srv.TokenURL(), ClientID: clientID, ClientSecret: "not-the-secret", Scopes: []string{scope}, CAFile: ca}
	_, err := f.Token(t.Context())
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Code != "invalid_client" || !oe.Refused() {
		t.Fatalf("err = %#v", err)
	}
	for _, want := range []string{"127.0.0.1", "invalid_client", "AADSTS7000215: Invalid client secret provided", "check the client id and secret"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "not-the-secret") {
		t.Errorf("the error shows the secret: %v", err)
	}
	srv.Fail(503, "temporarily_unavailable", "AADSTS90033: A transient error has occurred.")
	f.ClientSecret = secret
	if _, err := f.Token(t.Context()); !errors.As(err, &oe) || oe.Refused() || !strings.Contains(err.Error(), "AADSTS90033") {
		t.Errorf("a 503: %v", err)
	}
}

// TestRefreshRotationStoredBack: a rotated refresh token is stored back
// once for each monitor that holds the old one, the old one is refused by
// the endpoint from then on, and monitors still configured with it keep
// working (their flow leads to the same cache entry).
func TestRefreshRotationStoredBack(t *testing.T) {
	srv, ca := server(t, time.Hour)
	srv.SetRotate(true)
	rt := srv.IssueRefresh(clientID, mailbox, "")
	clk := &clock{t: time.Now()}
	cache := &oauth.Cache{Now: clk.now}
	stored := map[string][]string{}
	var mu sync.Mutex
	flow := func(owner, refresh string) *oauth.Flow {
		return &oauth.Flow{TokenURL: srv.TokenURL(), ClientID: clientID, ClientSecret: secret, RefreshToken: refresh, Cache: cache, CAFile: ca,
			Owner: owner, Rotated: func(_ context.Context, r string) error {
				mu.Lock()
				stored[owner] = append(stored[owner], r)
				mu.Unlock()
				return nil
			}}
	}
	a, b := flow("monitor 1", rt), flow("monitor 2", rt)
	if _, err := a.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(stored["monitor 1"]) != 1 || len(stored["monitor 2"]) != 1 || stored["monitor 1"][0] == rt || stored["monitor 1"][0] != stored["monitor 2"][0] {
		t.Fatalf("stored back: %q", stored)
	}
	// The old one is dead at the endpoint...
	if _, err := (&oauth.Flow{TokenURL: srv.TokenURL(), ClientID: clientID, ClientSecret: secret, RefreshToken: rt, CAFile: ca}).Token(t.Context()); err == nil {
		t.Fatal("the endpoint still takes the rotated-out refresh token")
	}
	// ...but a monitor still configured with it (not reloaded yet) uses
	// the current one after expiry, and the next rotation is stored.
	clk.add(time.Hour)
	if _, err := a.Token(t.Context()); err != nil {
		t.Fatalf("after expiry, with the old refresh token configured: %v", err)
	}
	if n := srv.Requests("refresh_token"); n != 3 { // 2 by us, 1 by the check above
		t.Errorf("%d refresh requests, want 3", n)
	}
	if len(stored["monitor 1"]) != 2 {
		t.Errorf("the second rotation was not stored: %q", stored)
	}
	// A refresh token configured anew (a new login) is a new credential.
	fresh := srv.IssueRefresh(clientID, mailbox, "")
	if _, err := flow("monitor 3", fresh).Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Revoked: invalid_grant, saying to log in again.
	srv.Revoke(stored["monitor 1"][1])
	clk.add(time.Hour)
	_, err := a.Token(t.Context())
	if oe := (*oauth.Error)(nil); !errors.As(err, &oe) || oe.Code != "invalid_grant" || !strings.Contains(err.Error(), "mailmon oauth login") {
		t.Errorf("a revoked refresh token: %v", err)
	}
}

// TestExpiredTokenIsReplaced: a token past its expiry is never handed
// out; the endpoint's lifetime (expires_in) is what counts.
func TestExpiredTokenIsReplaced(t *testing.T) {
	srv, ca := server(t, 2*time.Second)
	clk := &clock{t: time.Now()}
	f := &oauth.Flow{TokenURL: srv.TokenURL(), ClientID: clientID, ClientSecret: secret, Cache: &oauth.Cache{Now: clk.now}, CAFile: ca}
	a, err := f.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	clk.add(3 * time.Second)
	b, err := f.Token(t.Context())
	if err != nil || a == b || srv.Requests("") != 2 {
		t.Errorf("after expiry: same token %v, %d requests, %v", a == b, srv.Requests(""), err)
	}
}

// TestTokenURLMustBeHTTPS: the client secret never crosses plain http,
// except to a loopback address.
func TestTokenURLMustBeHTTPS(t *testing.T) {
	for u, ok := range map[string]bool{
		"https://login.microsoftonline.com/x/oauth2/v2.0/token": true,
		"http://127.0.0.1:8080/token":                           true,
		"http://[::1]:8080/token":                               true,
		"http://localhost/token":                                true,
		"http://login.example.com/token":                        false,
		"http://10.0.0.1/token":                                 false,
		"ftp://x/token":                                         false,
		"login.example.com/token":                               false,
	} {
		if err := oauth.CheckTokenURL(u); (err == nil) != ok {
			t.Errorf("CheckTokenURL(%q) = %v", u, err)
		}
	}
	f := &oauth.Flow{TokenURL: "http://login.example.com/token", ClientID: "c", ClientSecret: "s"}
	if _, err := f.Token(t.Context()); err == nil || !strings.Contains(err.Error(), "unencrypted") {
		t.Errorf("a plain-http token URL: %v", err)
	}
}

// TestNetworkTokenURLHeldToEgress: a token URL configured over the
// network dials only where the egress policy allows (loopback is not).
func TestNetworkTokenURLHeldToEgress(t *testing.T) {
	srv, ca := server(t, time.Hour)
	f := &oauth.Flow{TokenURL: srv.TokenURL(), ClientID: clientID, ClientSecret: secret, CAFile: ca, Egress: egress.Default()}
	if _, err := f.Token(t.Context()); !errors.Is(err, egress.ErrRefused) {
		t.Errorf("a loopback token URL over the network: %v", err)
	}
	if srv.Requests("") != 0 {
		t.Error("the request reached the server")
	}
}

// TestDeviceLogin: RFC 8628 from start to the refresh token, which then
// works; a declined login says so.
func TestDeviceLogin(t *testing.T) {
	srv, ca := server(t, time.Hour)
	srv.AddClient(oauthsrv.Client{ID: "public-app"})
	f := &oauth.Flow{TokenURL: srv.TokenURL(), ClientID: "public-app", Scopes: []string{"IMAP.AccessAsUser.All", "offline_access"}, CAFile: ca}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	rt, err := endpoint.DeviceLogin(ctx, f, srv.DeviceURL(), func(p endpoint.Prompt) {
		if !strings.HasPrefix(p.VerificationURI, srv.URL) || p.UserCode == "" {
			t.Errorf("prompt %+v", p)
		}
		srv.Approve(p.UserCode, "user@example.com", false)
	})
	if err != nil || rt == "" {
		t.Fatalf("device login: %q %v", rt, err)
	}
	f.RefreshToken = rt
	if _, err := f.Token(ctx); err != nil {
		t.Errorf("the refresh token from the login: %v", err)
	}
	_, err = endpoint.DeviceLogin(ctx, f, srv.DeviceURL(), func(p endpoint.Prompt) { srv.Approve(p.UserCode, "", true) })
	if oe := (*oauth.Error)(nil); !errors.As(err, &oe) || oe.Code != "access_denied" {
		t.Errorf("a declined login: %v", err)
	}
}
