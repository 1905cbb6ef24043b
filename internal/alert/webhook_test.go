package alert

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"

	"github.com/mailmon/mailmon/internal/discover"
	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/testutil/fakedns"
)

// countingServer is an HTTP server on loopback that counts the
// connections it accepted.
func countingServer(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// TestWebhookEgressOnTheAddressDialled: a webhook whose URL was set over
// the network (Egress set) is refused an address outside the policy on the
// address it dials, a name that resolves to loopback included: nothing
// reaches the server, the failure is permanent and names the flag, never
// the URL's path. The operator's webhook (no Egress) and a policy that
// lists the address are delivered.
func TestWebhookEgressOnTheAddressDialled(t *testing.T) {
	rc := &receiver{}
	srv, conns := countingServer(t, rc)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	ns := fakedns.Start(t, fakedns.Table(map[string][]dns.RR{
		"hooks.rebind.test.": {fakedns.RR(t, "hooks.rebind.test. 0 IN A 127.0.0.1")},
	}))
	r, err := discover.NewResolver(ns)
	if err != nil {
		t.Fatal(err)
	}
	const path = "/services/T0/B0/s3cret-path"
	byName := "http://hooks.rebind.test:" + strconv.Itoa(port) + path
	for _, u := range []string{srv.URL + path, byName} {
		err := (&Webhook{URL: u, Egress: egress.Default(), Resolver: r}).Notify(context.Background(), ev)
		var perm *Permanent
		if !errors.As(err, &perm) || !errors.Is(err, egress.ErrRefused) || !strings.Contains(err.Error(), "loopback") ||
			!strings.Contains(err.Error(), egress.Flag) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s over the network: %v, want a permanent refusal naming loopback and %s, without the path", Origin(u), err, egress.Flag)
		}
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("refused deliveries reached the server: %d connections", n)
	}
	if err := (&Webhook{URL: byName, Resolver: r}).Notify(context.Background(), ev); err != nil {
		t.Errorf("the operator's webhook: %v", err)
	}
	listed, err := egress.Parse([]string{"127.0.0.1/32"})
	if err != nil {
		t.Fatal(err)
	}
	if err := (&Webhook{URL: byName, Egress: listed, Resolver: r}).Notify(context.Background(), ev); err != nil {
		t.Errorf("with --allow-targets 127.0.0.1/32: %v", err)
	}
	if len(rc.bodies) != 2 {
		t.Errorf("the server got %d alerts, want 2", len(rc.bodies))
	}
}

// TestWebhookRedirectNotFollowed: a redirect is not followed, whoever set
// the URL: a 302 would turn the POST into a bodiless GET that answers 200
// (the alert lost, the delivery "sent"), and a 307 would carry it where
// the URL checked when saved does not lead. The failure is permanent and
// shows the new location's origin only.
func TestWebhookRedirectNotFollowed(t *testing.T) {
	elsewhere, reached := countingServer(t, &receiver{})
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		hop, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+"/s3cret-next", code)
		}))
		for _, w := range []*Webhook{{URL: hop.URL + "/hook"}, {URL: hop.URL + "/hook", Egress: egress.Default().AllowLoopback()}} {
			err := w.Notify(context.Background(), ev)
			var perm *Permanent
			if !errors.As(err, &perm) || !strings.Contains(err.Error(), "redirects are not followed") ||
				!strings.Contains(err.Error(), Origin(elsewhere.URL)) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("%d: %v, want a permanent failure naming the new origin only", code, err)
			}
		}
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("a redirect was followed: %d connections", n)
	}
}
