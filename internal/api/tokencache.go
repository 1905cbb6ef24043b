package api

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// Token checks are cached briefly: a scraper calling /probe hundreds of
// times a second would otherwise cost a database read and a write each
// time. A deleted token keeps working for at most tokenTTL; a token's
// last-used time is written at most once per touchEvery.
const (
	tokenTTL   = 2 * time.Second
	touchEvery = time.Minute
	tokenCap   = 1024 // cached tokens at most
)

type tokenCache struct {
	mu      sync.Mutex
	valid   map[string]tokenEntry // by hash
	touched map[int64]time.Time   // by token id
}

type tokenEntry struct {
	id    int64
	until time.Time
}

// check says whether the token with this hash is valid, from the cache or
// the store, and records its use.
func (c *tokenCache) check(ctx context.Context, st store.Store, hash string, now time.Time) bool {
	ok, _ := c.lookup(ctx, st, hash, now)
	return ok
}

// lookup is check, with the store's error when it could not tell (the
// database away: the token is not known to be invalid).
func (c *tokenCache) lookup(ctx context.Context, st store.Store, hash string, now time.Time) (bool, error) {
	c.mu.Lock()
	if c.valid == nil {
		c.valid, c.touched = map[string]tokenEntry{}, map[int64]time.Time{}
	}
	e, ok := c.valid[hash]
	c.mu.Unlock()
	if !ok || now.After(e.until) {
		t, err := st.TokenByHash(ctx, hash)
		if err != nil {
			c.mu.Lock()
			delete(c.valid, hash)
			c.mu.Unlock()
			if errors.Is(err, store.ErrNotFound) {
				err = nil
			}
			return false, err
		}
		e = tokenEntry{id: t.ID, until: now.Add(tokenTTL)}
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
		c.valid[hash] = e
		c.mu.Unlock()
	}
	c.mu.Lock()
	touch := now.Sub(c.touched[e.id]) >= touchEvery
	if touch {
		c.touched[e.id] = now
	}
	c.mu.Unlock()
	if touch {
		st.TouchToken(context.WithoutCancel(ctx), e.id, now)
	}
	return true, nil
}
