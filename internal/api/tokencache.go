package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/store"
)

// Token checks are cached briefly: a scraper calling /probe hundreds of
// times a second would otherwise cost a database read and a write each
// time. A deleted token keeps working for at most tokenTTL; a token's
// last-used time is written at most once per touchEvery, beside the
// request, not in its way: the write waits for the database's one writer,
// which at 100,000 monitors is busy with the tests' results (a /metrics
// scrape waited 0.63 s for it, once a minute).
const (
	tokenTTL     = 2 * time.Second
	touchEvery   = time.Minute
	touchTimeout = 30 * time.Second // the longest a last-used write may wait
	tokenCap     = 1024             // cached tokens at most
)

type tokenCache struct {
	mu       sync.Mutex
	valid    map[[sha256.Size]byte]tokenEntry // by catalog.TokenSum
	touched  map[int64]time.Time              // by token id
	touching sync.WaitGroup                   // the last-used writes under way
}

type tokenEntry struct {
	id      int64
	name    string
	scopes  catalog.Scopes
	expires time.Time // zero: never
	until   time.Time
}

// check returns the token with this sum (catalog.TokenSum), from the
// cache or the store, and records its use; false if there is none.
func (c *tokenCache) check(ctx context.Context, st store.Store, sum [sha256.Size]byte, now time.Time) (tokenEntry, bool) {
	e, ok, _ := c.lookup(ctx, st, sum, now)
	return e, ok
}

// lookup is check, with the store's error when it could not tell (the
// database away: the token is not known to be invalid).
func (c *tokenCache) lookup(ctx context.Context, st store.Store, sum [sha256.Size]byte, now time.Time) (tokenEntry, bool, error) {
	c.mu.Lock()
	if c.valid == nil {
		c.valid, c.touched = map[[sha256.Size]byte]tokenEntry{}, map[int64]time.Time{}
	}
	e, ok := c.valid[sum]
	c.mu.Unlock()
	if !ok || now.After(e.until) {
		t, err := st.TokenByHash(ctx, catalog.SumHash(sum))
		if err != nil {
			c.mu.Lock()
			delete(c.valid, sum)
			c.mu.Unlock()
			if errors.Is(err, store.ErrNotFound) {
				err = nil
			}
			return tokenEntry{}, false, err
		}
		// A scope this version does not know gives nothing; no known
		// scope at all, nothing either.
		scopes, _ := catalog.ParseScopes(t.Scopes)
		e = tokenEntry{id: t.ID, name: t.Name, scopes: scopes, expires: t.Expires, until: now.Add(tokenTTL)}
		c.mu.Lock()
		if len(c.valid) >= tokenCap {
			for h, old := range c.valid {
				if now.After(old.until) {
					delete(c.valid, h)
				}
			}
			if len(c.valid) >= tokenCap {
				clear(c.valid)
			}
		}
		c.valid[sum] = e
		c.mu.Unlock()
	}
	c.mu.Lock()
	touch := now.Sub(c.touched[e.id]) >= touchEvery
	if touch {
		c.touched[e.id] = now
	}
	c.mu.Unlock()
	if touch { // at most one a token a minute
		c.touching.Go(func() {
			tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), touchTimeout)
			defer cancel()
			st.TouchToken(tctx, e.id, now)
		})
	}
	return e, true, nil
}
