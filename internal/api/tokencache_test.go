package api

import (
	"context"
	"crypto/sha256"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/store"
)

// A token check is cached for tokenTTL: a deleted token is refused once
// that passes; its last use is written once per touchEvery, not per call.
func TestTokenCache(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	st := f.api.Store
	var c tokenCache
	hash := catalog.TokenSum(f.token)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if !valid(&c, ctx, st, hash, t0) {
		t.Fatal("a valid token was refused")
	}
	if valid(&c, ctx, st, catalog.TokenSum("mm_wrong"), t0) {
		t.Fatal("a wrong token was accepted")
	}
	valid(&c, ctx, st, hash, t0.Add(30*time.Second))
	toks, err := st.Tokens(ctx)
	if err != nil || len(toks) != 1 {
		t.Fatal(toks, err)
	}
	if !toks[0].Used.Equal(t0) {
		t.Fatalf("last used %v, want the first use %v (written once a minute)", toks[0].Used, t0)
	}
	valid(&c, ctx, st, hash, t0.Add(61*time.Second))
	if toks, _ = st.Tokens(ctx); !toks[0].Used.Equal(t0.Add(61 * time.Second)) {
		t.Fatalf("last used %v after a minute", toks[0].Used)
	}

	if err := st.DeleteToken(ctx, toks[0].ID); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(62 * time.Second)
	if !valid(&c, ctx, st, hash, now) { // still cached from 61 s
		t.Fatal("the cached check ended early")
	}
	if valid(&c, ctx, st, hash, now.Add(tokenTTL+time.Millisecond)) {
		t.Fatal("a deleted token was accepted after the cache expired")
	}
}

// valid says whether c takes the token with this hash, once the
// last-used write it started, if any, is done.
func valid(c *tokenCache, ctx context.Context, st store.Store, hash [sha256.Size]byte, now time.Time) bool {
	_, ok := c.check(ctx, st, hash, now)
	c.touching.Wait()
	return ok
}

// blockedWriter is a store whose last-used writes wait until release
// closes, as SQLite's one writer does behind the tests' results.
type blockedWriter struct {
	store.Store
	release chan struct{}
	touched chan time.Time
}

func (b blockedWriter) TokenByHash(ctx context.Context, hash string) (*store.Token, error) {
	return &store.Token{ID: 7, Name: "prometheus", Scopes: []string{"read"}}, nil
}

func (b blockedWriter) TouchToken(ctx context.Context, id int64, at time.Time) error {
	<-b.release
	b.touched <- at
	return nil
}

// TestTokenTouchBesideTheRequest: a request whose token's last use is due
// to be written is answered while the write waits for the database, and
// the write is still made. (It was made in the request's way: a /metrics
// scrape at 100,000 monitors waited 0.63 s for it once a minute.)
func TestTokenTouchBesideTheRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := blockedWriter{release: make(chan struct{}), touched: make(chan time.Time, 1)}
		var c tokenCache
		now := time.Now()
		if _, ok := c.check(context.Background(), st, catalog.TokenSum("mm_x"), now); !ok {
			t.Fatal("the token was refused")
		}
		// the check returned while the write waits; now let it through
		close(st.release)
		c.touching.Wait()
		select {
		case at := <-st.touched:
			if !at.Equal(now) {
				t.Errorf("last used written as %v, want %v", at, now)
			}
		default:
			t.Error("the last use was not written")
		}
	})
}
