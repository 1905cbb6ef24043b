package roundtrip

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/graphprobe"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/fakegraph"
	"github.com/mailmon/mailmon/internal/testutil/oauthsrv"
)

const (
	graphUser   = "probe@contoso.test"
	graphSecret = "graph~client.secret.value"
)

// graphRig is a fake Graph trusting the tokens of a test authorization
// server, which gives them to mailmon by client credentials.
type graphRig struct {
	g     *fakegraph.Server
	auth  *oauthsrv.Server
	ca    string
	cache *oauth.Cache
}

func newGraphRig(t *testing.T) *graphRig {
	ca := certs.NewCA(t)
	r := &graphRig{g: fakegraph.Start(t, ca), auth: oauthsrv.New(t, ca, time.Hour), ca: ca.File(t), cache: &oauth.Cache{}}
	r.auth.AddClient(oauthsrv.Client{ID: "graph-app", Secret: graphSecret, Mailbox: graphUser})
	r.g.TrustTokens(r.auth.Active)
	r.g.AddMailbox(graphUser)
	return r
}

func (r *graphRig) config(typ string, timeout time.Duration) probe.Config {
	return probe.Config{Type: typ, Host: r.g.Host, Port: r.g.Port, CAFile: r.ca, User: graphUser, To: graphUser, From: graphUser,
		Monitor: "graph", InstallationKey: testKey, Timeout: timeout, PollInterval: 200 * time.Millisecond,
		OAuthToken: oauth.Source{Flow: &oauth.Flow{TokenURL: r.auth.TokenURL(), ClientID: "graph-app", ClientSecret: graphSecret,
			Scopes: []string{"https://graph.microsoft.com/.default"}, Cache: r.cache, CAFile: r.ca}}}
}

func (r *graphRig) run(t *testing.T, c probe.Config) *probe.Result {
	t.Helper()
	k := GraphKind()
	if c.Type == graphprobe.Name {
		k = graphprobe.Kind()
	}
	res := probe.Run(context.Background(), k, c)
	noSecrets(t, res, append(r.auth.Issued(), graphSecret)...)
	return res
}

// TestGraphRoundTrip: sendMail, found by its subject in the inbox, its
// stamp verified, deleted by id; the other messages of the mailbox,
// spread over several pages, survive byte for byte, a look-alike probe
// (forged stamp) included.
func TestGraphRoundTrip(t *testing.T) {
	r := newGraphRig(t)
	r.g.SetPageSize(2)
	var others [][]byte
	for i := range 5 {
		m := []byte("From: a@example.test\r\nTo: " + graphUser + "\r\nSubject: ordinary " + strings.Repeat("x", i) + "\r\n\r\nhello\r\n")
		r.g.Put(graphUser, "inbox", m)
		others = append(others, m)
	}
	forged, _ := NewProbe([]byte("another installation's secret!!"), "graph", graphUser, graphUser, time.Now().Add(-2*time.Hour))
	r.g.Put(graphUser, "inbox", forged.Raw)
	others = append(others, forged.Raw)

	res := r.run(t, r.config(GraphName, 20*time.Second))
	if res.Status != probe.StatusUp || res.Delivery <= 0 {
		t.Fatalf("round trip: %s", dump(res))
	}
	inbox := r.g.Folder(graphUser, "inbox")
	if len(inbox) != len(others) {
		t.Fatalf("%d messages left, want %d", len(inbox), len(others))
	}
	for i, m := range inbox {
		if !bytes.Equal(m.MIME, others[i]) {
			t.Errorf("message %d changed:\n%q\nwant\n%q", i, m.MIME, others[i])
		}
	}
	if !strings.Contains(strings.Join(r.g.Requests(), "\n"), "POST /v1.0/users/"+graphUser+"/sendMail") {
		t.Errorf("no sendMail: %q", r.g.Requests())
	}
	// The junk folder: delivered there, a Warn.
	r.g.DeliverToJunk(true)
	res = r.run(t, r.config(GraphName, 20*time.Second))
	if res.Status != probe.StatusWarn || res.Error == nil || res.Error.Code != probe.DeliveredToJunk || len(r.g.Folder(graphUser, "junkemail")) != 0 {
		t.Errorf("junk: %s", dump(res))
	}
	if n := r.auth.Requests("client_credentials"); n != 1 {
		t.Errorf("%d token requests for two tests, want 1", n)
	}
}

// TestGraphThrottledWithinDeadline: 429 with Retry-After is waited out
// when the deadline leaves room, and the test still passes; a wait past
// the deadline fails at once, timeout, without waiting.
func TestGraphThrottledWithinDeadline(t *testing.T) {
	r := newGraphRig(t)
	r.g.Throttle(2, 1)
	res := r.run(t, r.config(GraphName, 20*time.Second))
	if res.Status != probe.StatusUp || !strings.Contains(strings.Join(res.Transcript, "\n"), "Graph throttled the test: waiting 1s") {
		t.Fatalf("throttled round trip: %s", dump(res))
	}
	r.g.Throttle(1, 120)
	start := time.Now()
	res = r.run(t, r.config(GraphName, 5*time.Second))
	if res.Error == nil || res.Error.Code != probe.Timeout || time.Since(start) > 4*time.Second {
		t.Errorf("a wait past the deadline (%v): %s", time.Since(start), dump(res))
	}
}

// TestGraphRefusals: a token Graph refuses (401 with WWW-Authenticate), a
// mailbox the application may not open (403), and the token endpoint's
// own refusal, each auth_failed with the words that say why.
func TestGraphRefusals(t *testing.T) {
	r := newGraphRig(t)
	r.g.AddMailbox("ceo@contoso.test")
	c := r.config(graphprobe.Name, 10*time.Second)
	if res := r.run(t, c); res.Status != probe.StatusUp || res.Details["inbox_messages"] != 0 {
		t.Fatalf("graph login: %s", dump(res))
	}
	c.User = "ceo@contoso.test"
	if res := r.run(t, c); res.Error == nil || res.Error.Code != probe.AuthFailed || !strings.Contains(res.Error.Detail, "403 ErrorAccessDenied") {
		t.Errorf("403: %s", dump(res))
	}
	for _, tok := range r.auth.Issued() {
		r.auth.Revoke(tok)
	}
	c.User = graphUser
	if res := r.run(t, c); res.Error == nil || res.Error.Code != probe.AuthFailed ||
		!strings.Contains(res.Error.Detail, "InvalidAuthenticationToken") || !strings.Contains(res.Error.Detail, "WWW-Authenticate: Bearer") {
		t.Errorf("401: %s", dump(res))
	}
	c.OAuthToken.Flow = &oauth.Flow{TokenURL: r.auth.TokenURL(), ClientID: "graph-app", ClientSecret: "wrong", CAFile: r.ca}
	if res := r.run(t, c); res.Error == nil || res.Error.Code != probe.AuthFailed || !strings.Contains(res.Error.Detail, "AADSTS7000215") {
		t.Errorf("invalid_client: %s", dump(res))
	}
	if err := c.Validate(graphprobe.Kind()); err != nil || c.TLS != probe.TLSImplicit {
		t.Errorf("Graph's TLS: %v %v", c.TLS, err)
	}
	c.OAuthToken = oauth.Source{}
	if err := c.Validate(graphprobe.Kind()); err == nil || !strings.Contains(err.Error(), "oauth: Graph needs a token") {
		t.Errorf("no token: %v", err)
	}
}
