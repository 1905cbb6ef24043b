package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"time"
)

// Cache holds the daemon's tokens, one entry per credential, shared by
// every monitor that uses it: a token is fetched once and used until
// shortly before it expires, and only one request per credential is in
// flight at a time (the others wait for its answer), so a hundred
// monitors of one mailbox cost one token request per expiry.
//
// A credential is the token URL, client id, scopes and either the client
// secret (client credentials) or the refresh token's lineage: every
// refresh token an entry has held (the one configured, those the endpoint
// rotated in) leads to it, so monitors configured with an older one still
// share it, and the new one is stored back for each of them (Flow.Rotated).
type Cache struct {
	// Now is the clock; nil: time.Now.
	Now func() time.Time

	mu      sync.Mutex
	entries map[string]*entry // by credential key
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{} }

type entry struct {
	sem chan struct{} // one holder at a time: the fields below are its

	tok      *Reply
	obtained time.Time
	refresh  string            // the current refresh token
	stored   map[string]string // owner → the refresh token stored for it
}

// margin is how long before its expiry a token is replaced: a fifth of
// its lifetime, at most a minute, so that a test never starts with a
// token about to lapse.
func margin(lifetime time.Duration) time.Duration { return min(time.Minute, lifetime/5) }

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func key(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (f *Flow) keyFor(refresh string) string {
	scopes := strings.Join(f.Scopes, " ")
	if f.ServiceAccountKey != "" {
		return key("sa", f.TokenURL, f.ServiceAccountKey, f.Subject, scopes)
	}
	if refresh == "" && f.RefreshToken == "" {
		return key("cc", f.TokenURL, f.ClientID, scopes, f.ClientSecret)
	}
	return key("rt", f.TokenURL, f.ClientID, scopes, refresh)
}

// entry finds the flow's entry, or makes it.
func (c *Cache) entry(f *Flow) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]*entry{}
	}
	k := f.keyFor(f.RefreshToken)
	e := c.entries[k]
	if e == nil {
		e = &entry{sem: make(chan struct{}, 1), refresh: f.RefreshToken, stored: map[string]string{}}
		c.entries[k] = e
	}
	return e
}

// link makes refresh, rotated in by the endpoint, lead to e too.
func (c *Cache) link(f *Flow, refresh string, e *entry) {
	c.mu.Lock()
	c.entries[f.keyFor(refresh)] = e
	c.mu.Unlock()
}

func (c *Cache) token(ctx context.Context, f *Flow) (string, error) {
	e := c.entry(f)
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	tok, rotated, err := c.fresh(ctx, f, e)
	<-e.sem
	if err != nil {
		return "", err
	}
	if rotated != "" {
		c.storeBack(ctx, f, e, rotated)
	}
	return tok, nil
}

// fresh returns the entry's token, fetching one when it is missing or
// about to expire; rotated is the refresh token to store for f's owner,
// when that is not the one it has. The caller holds e.sem.
func (c *Cache) fresh(ctx context.Context, f *Flow, e *entry) (tok, rotated string, err error) {
	now := c.now()
	if f.RefreshToken != "" && e.stored[f.Owner] == "" {
		e.stored[f.Owner] = f.RefreshToken
	}
	if e.tok == nil || !e.tok.Expiry.IsZero() && !now.Before(e.tok.Expiry.Add(-margin(e.tok.Expiry.Sub(e.obtained)))) {
		c.adoptStored(ctx, f, e)
		t, err := f.fetch(ctx, e.refresh)
		if oe := (*Error)(nil); errors.As(err, &oe) && oe.Code == "invalid_grant" && c.awaitStored(ctx, f, e) {
			// Another node rotated it between our read and our request.
			t, err = f.fetch(ctx, e.refresh)
		}
		if err != nil {
			var oe *Error
			if e.tok != nil && e.tok.Expiry.After(now) && !(errors.As(err, &oe) && oe.Refused()) {
				// The endpoint is down but the token has not lapsed
				// yet: use it, the next test tries again.
				return e.tok.AccessToken, "", nil
			}
			e.tok = nil
			return "", "", err
		}
		e.tok, e.obtained = t, now
		if t.RefreshToken != "" && t.RefreshToken != e.refresh {
			e.refresh = t.RefreshToken
			c.link(f, t.RefreshToken, e)
		}
	}
	if f.RefreshToken != "" && f.Rotated != nil && e.stored[f.Owner] != e.refresh {
		rotated = e.refresh
	}
	return e.tok.AccessToken, rotated, nil
}

// storeBack stores a rotated refresh token for f's owner; a failure is
// tried again at its next test (the token in memory keeps working).
func (c *Cache) storeBack(ctx context.Context, f *Flow, e *entry, refresh string) {
	if err := f.Rotated(ctx, refresh); err != nil {
		return
	}
	select {
	case e.sem <- struct{}{}:
		e.stored[f.Owner] = refresh
		<-e.sem
	case <-ctx.Done():
	}
}

// rotationWait bounds how long a refresh refused with invalid_grant waits
// for another node to store the token it rotated in: that node stores it
// right after its own refresh answers, so two nodes refreshing at the same
// instant both succeed instead of one failing its test.
const (
	rotationWait = 2 * time.Second
	rotationPoll = 100 * time.Millisecond
)

// awaitStored reads the stored refresh token again after an invalid_grant
// until it is one the entry has never held (adoptStored), for up to
// rotationWait or the test's deadline. A token that was really revoked
// fails rotationWait later, with the endpoint's error. The caller holds
// e.sem.
func (c *Cache) awaitStored(ctx context.Context, f *Flow, e *entry) bool {
	if f.Stored == nil {
		return false
	}
	give := time.NewTimer(rotationWait)
	defer give.Stop()
	poll := time.NewTicker(rotationPoll)
	defer poll.Stop()
	for {
		if c.adoptStored(ctx, f, e) {
			return true
		}
		select {
		case <-poll.C:
		case <-give.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// adoptStored makes the entry refresh with f's owner's stored refresh
// token when it is one the entry has never held: another node rotated
// it in (and the endpoint may have revoked the one in memory). A token
// of the entry's own lineage is older, or the current one: kept as it
// is. It reports whether the entry took a new one. The caller holds
// e.sem.
func (c *Cache) adoptStored(ctx context.Context, f *Flow, e *entry) bool {
	if f.Stored == nil || e.refresh == "" {
		return false
	}
	rt, err := f.Stored(ctx)
	if err != nil || rt == "" || rt == e.refresh {
		return false // unreadable: the one in memory is tried
	}
	c.mu.Lock()
	known := c.entries[f.keyFor(rt)] == e
	c.mu.Unlock()
	if known {
		return false
	}
	e.refresh = rt
	e.stored[f.Owner] = rt // what the store holds: nothing to store back
	c.link(f, rt, e)
	return true
}
