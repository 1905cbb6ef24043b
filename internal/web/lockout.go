package web

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Failed logins are counted in a sliding window, three ways, so that no one
// can lock a user out from everywhere by failing on purpose:
//
//   - one name from one address: pairLimit failures, then that pair waits;
//   - one address, any names: addrLimit failures, then the address waits
//     (one client trying many names);
//   - one name, any addresses: past userLimit failures the name is under
//     attack, and only an address that has not failed in the window may
//     still try it (one attempt: failing makes it a failed address). The
//     user, from an address that has not failed, still logs in; an attacker
//     with many addresses gets one guess per address and window.
//
// An address is its /64 for IPv6 (one host holds a whole /64) and itself
// for IPv4: the client's, which behind a reverse proxy named by
// --trusted-proxies is the one it forwards (proxy.go); behind any other
// proxy every client has the proxy's address and shares its limits.
const (
	loginWindow = 15 * time.Minute
	pairLimit   = 5
	addrLimit   = 20
	userLimit   = 5
)

// loginKeys names the counters of a login attempt.
type loginKeys struct {
	pair, addr, user string
}

func loginKeysOf(name, remoteAddr string) loginKeys {
	a := addrKey(remoteAddr)
	return loginKeys{pair: "pair:" + a + " " + name, addr: "addr:" + a, user: "user:" + name}
}

// addrKey is the client's address, or its /64 for IPv6.
func addrKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.WithZone("").Prefix(64)
	return p.String()
}

// loginWait is how long this attempt must wait (0: it may try now).
func (l *limiter) loginWait(k loginKeys, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	wait := max(l.wait(k.pair, pairLimit, now), l.wait(k.addr, addrLimit, now))
	if len(l.recent(k.addr, now)) > 0 { // a failed address: the name's lock holds
		wait = max(wait, l.wait(k.user, userLimit, now))
	}
	return wait
}

func (l *limiter) loginFailed(k loginKeys, now time.Time) {
	l.fail(now, map[string]int{k.pair: pairLimit, k.addr: addrLimit, k.user: userLimit})
}

// loginOK forgets the pair's failures. The name's stay: its user logging
// in does not end an attack on it from other addresses.
func (l *limiter) loginOK(k loginKeys) { l.reset(k.pair) }

// limiter counts failures per key in a sliding window.
type limiter struct {
	mu     sync.Mutex
	window time.Duration
	fails  map[string][]time.Time // the newest failures, oldest first
}

func newLimiter() *limiter {
	return &limiter{window: loginWindow, fails: map[string][]time.Time{}}
}

// blocked returns how long the longest-blocked key, with limit failures
// allowed, must still wait.
func (l *limiter) blocked(keys []string, limit int, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		wait = max(wait, l.wait(k, limit, now))
	}
	return wait
}

// wait is how long key waits at limit failures (l.mu held).
func (l *limiter) wait(key string, limit int, now time.Time) time.Duration {
	fs := l.recent(key, now)
	if len(fs) < limit {
		return 0
	}
	return fs[len(fs)-limit].Add(l.window).Sub(now)
}

// recent returns key's failures in the window, dropping older ones
// (l.mu held).
func (l *limiter) recent(k string, now time.Time) []time.Time {
	fs := l.fails[k]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= l.window {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(l.fails, k)
	} else {
		l.fails[k] = fs
	}
	return fs
}

// fail records a failure for each key, keeping at most its limit.
func (l *limiter) fail(now time.Time, keys map[string]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) > 100000 { // bounded: drop what has aged out
		for k := range l.fails {
			l.recent(k, now)
		}
	}
	for k, limit := range keys {
		fs := append(l.fails[k], now)
		if len(fs) > limit {
			fs = fs[len(fs)-limit:]
		}
		l.fails[k] = fs
	}
}

func (l *limiter) reset(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.fails, k)
	}
}

// noSuchUser is what a login with an unknown name compares its password
// with: a hash at the cost of real ones, so that the answer takes as long
// as for a known name with a wrong password (at bcrypt.MinCost it took 3
// ms against 80 ms, which told the names apart).
type noSuchUser struct {
	once sync.Once
	hash []byte
}

func (d *noSuchUser) get(cost int) []byte {
	d.once.Do(func() {
		d.hash, _ = bcrypt.GenerateFromPassword([]byte(randomToken()[:32]), costOr(cost))
	})
	return d.hash
}
