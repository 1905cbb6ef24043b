package web

import (
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// How often one client (an address, an IPv6 /64) may ask for status pages
// and badges: they need no login. A README with a few badges, or a shared
// cache in front of many readers, fits; a loop does not.
const (
	statusRate  = 10 // a second
	statusBurst = 40
)

// clientRates is a token bucket per client (golang.org/x/time/rate).
type clientRates struct {
	mu    sync.Mutex
	every rate.Limit
	burst int
	m     map[string]*rate.Limiter
}

func newClientRates(perSecond float64, burst int) *clientRates {
	return &clientRates{every: rate.Limit(perSecond), burst: burst, m: map[string]*rate.Limiter{}}
}

// allow says whether key may ask now.
func (c *clientRates) allow(key string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.m[key]
	if !ok {
		if len(c.m) >= 100000 { // bounded: a client forgotten starts full again
			clear(c.m)
		}
		l = rate.NewLimiter(c.every, c.burst)
		c.m[key] = l
	}
	return l.AllowN(now, 1)
}

// statusLimit answers 429 to a client that asks for status pages and
// badges too often, and says whether the request may go on.
func (s *Server) statusLimit(w http.ResponseWriter, r *http.Request) bool {
	if s.statusClients.allow(addrKey(s.Proxies.Client(r).Addr), s.Now()) {
		return true
	}
	w.Header().Set("Retry-After", "1")
	http.Error(w, "too many requests: try again in a second", http.StatusTooManyRequests)
	return false
}
