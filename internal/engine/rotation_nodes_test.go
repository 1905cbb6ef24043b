package engine

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/postgres"
	"github.com/mailmon/mailmon/internal/testutil/realpg"
)

// TestRotatedRefreshTokenSeenByOtherNodes: two nodes on one PostgreSQL
// database load a monitor whose refresh token the endpoint rotates and
// revokes once used (as Microsoft and Google do). Node A refreshes and
// stores the rotated token back, sealed; node B, never reloaded, reads
// the stored one before its own refresh and succeeds with it; so does A
// after B rotated again. The endpoint never saw a rotated-out token
// again.
func TestRotatedRefreshTokenSeenByOtherNodes(t *testing.T) {
	ctx := context.Background()
	st, err := postgres.Open(ctx, realpg.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := newRotating(t, st)
	srv, rt, v := r.srv, r.rt, r.v
	cat := &catalog.Catalog{Store: st, Vault: v}
	m := &store.Monitor{ID: r.monitor(t, "loop")}

	var ahead atomic.Int64 // the nodes' clock runs ahead of the wall clock by this
	now := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	noop := func(context.Context, *probe.Config, *probe.Trace) error { return nil }
	node := func() *Engine {
		e := New(Options{Store: st, Vault: v, InstallationKey: keyfile.Key("engine-test-installation-secret"), Now: now,
			Probers: func(string) (probe.Prober, bool) { return noop, true }, StoreRefreshToken: cat.StoreRefreshToken})
		must(t, e.Load(ctx))
		return e
	}
	a, b := node(), node() // both loaded with the first refresh token
	token := func(e *Engine, who string) {
		t.Helper()
		cfg, err := e.MonitorConfig(m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cfg.OAuthToken.Token(ctx); err != nil {
			t.Fatalf("node %s: %v", who, err)
		}
	}
	stored := func() string {
		t.Helper()
		s, err := (&Engine{o: Options{Store: st, Vault: v}}).refreshStored(ctx, m.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	token(a, "A")
	afterA := stored()
	if afterA == rt || afterA == "" {
		t.Fatalf("node A did not store the rotated refresh token back")
	}
	token(b, "B") // B's first token: a refresh with what A stored
	afterB := stored()
	if afterB == afterA {
		t.Errorf("node B did not rotate (and store) the token A stored")
	}
	ahead.Add(int64(2 * time.Hour)) // both nodes' access tokens lapse
	token(a, "A after B's rotation")
	token(b, "B again")
	if n := srv.Reused(); n != 0 {
		t.Errorf("the endpoint saw %d refresh requests with a rotated-out token", n)
	}
	if n := srv.Requests("refresh_token"); n != 4 {
		t.Errorf("%d refresh requests, want 4 (one per token asked)", n)
	}
}
