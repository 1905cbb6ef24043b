// Package fakeidp is an OpenID Connect provider for tests: zitadel/oidc's
// op package with its example's in-memory storage, started on loopback
// with its own signing key. Its users log in on its own login form; each
// has the groups the test gives it, in the "groups" claim (ID token and
// userinfo) when the client asks for the "groups" scope.
package fakeidp

import (
	"context"
	"crypto/rand"
	"net"
	"net/http"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// The example storage's users: both log in with Password.
const (
	Admin    = "id1" // its user name is "test-user@127.0.0.1"
	Other    = "id2" // "test-user2"
	Password = "verysecure"
)

// IdP is a running provider.
type IdP struct {
	Issuer       string
	ClientID     string
	ClientSecret string
}

// groupStorage adds the groups claim to the example storage.
type groupStorage struct {
	*storage.Storage
	groups map[string][]string // by user id
}

func (g groupStorage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, tr op.IDTokenRequest, scopes []string) error {
	if err := g.Storage.SetUserinfoFromRequest(ctx, ui, tr, scopes); err != nil {
		return err
	}
	g.add(ui, tr.GetSubject(), scopes)
	return nil
}

func (g groupStorage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := g.Storage.SetUserinfoFromToken(ctx, ui, tokenID, subject, origin); err != nil {
		return err
	}
	g.add(ui, ui.Subject, []string{"groups"})
	return nil
}

func (g groupStorage) add(ui *oidc.UserInfo, subject string, scopes []string) {
	for _, s := range scopes {
		if s == "groups" {
			ui.AppendClaims("groups", g.groups[subject])
		}
	}
}

// Start runs a provider on loopback until the test ends, with a web
// client whose callback is redirectURL; groups gives each user's groups.
func Start(t testing.TB, redirectURL string, groups map[string][]string) *IdP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	idp := &IdP{Issuer: issuer, ClientID: "mailmon-" + rand.Text(), ClientSecret: rand.Text()}
	storage.RegisterClients(storage.WebClient(idp.ClientID, idp.ClientSecret, redirectURL))
	st := groupStorage{storage.NewStorage(storage.NewUserStore(issuer)), groups}
	router := exampleop.SetupServer(issuer, st, nil, false) // nil: the default logger stays
	srv := &http.Server{Handler: router}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return idp
}
