//go:build unix

package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/catalog"
	"golang.org/x/crypto/bcrypt"
)

// cpuTime is the CPU time this process has used.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loginFrom logs in as name from the client address addr ("ip:port"),
// in process, and returns the status (303: logged in).
func (f *fixture) loginFrom(t *testing.T, addr, name, pw string) int {
	t.Helper()
	h := f.srv.Config.Handler
	get := httptest.NewRequest("GET", "/login", nil)
	get.RemoteAddr = addr
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, get)
	var tok string
	for _, c := range rec.Result().Cookies() {
		if c.Name == loginCookie {
			tok = c.Value
		}
	}
	form := url.Values{"name": {name}, "password": {pw}, "next": {"/"}, "csrf": {tok}}
	post := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.AddCookie(&http.Cookie{Name: loginCookie, Value: tok})
	post.RemoteAddr = addr
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, post)
	return rec.Code
}

// TestLockoutPerUserAndAddress: failures from several addresses do not
// lock the user out of an address that has not failed; one address is
// limited per name and over all names; an IPv6 /64 is one address.
func TestLockoutPerUserAndAddress(t *testing.T) {
	t.Run("many addresses", func(t *testing.T) {
		f := newFixture(t, false)
		for _, a := range []string{"10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1", "10.0.0.4:1", "10.0.0.5:1", "10.0.0.6:1"} {
			if code := f.loginFrom(t, a, "admin", "guess"); code != http.StatusUnauthorized {
				t.Fatalf("guess from %s: %d", a, code)
			}
		}
		if code := f.loginFrom(t, "10.0.0.1:2", "admin", testPassword); code != http.StatusTooManyRequests {
			t.Errorf("the right password from an address that failed, the name under attack: %d, want 429", code)
		}
		if code := f.loginFrom(t, "192.0.2.7:1", "admin", testPassword); code != http.StatusSeeOther {
			t.Errorf("the user from an address that has not failed: %d, want 303", code)
		}
		// A fresh address gets one guess at a name under attack.
		if code := f.loginFrom(t, "192.0.2.8:1", "admin", "guess"); code != http.StatusUnauthorized {
			t.Errorf("a fresh address's guess: %d", code)
		}
		if code := f.loginFrom(t, "192.0.2.8:1", "admin", "guess 2"); code != http.StatusTooManyRequests {
			t.Errorf("its second guess: %d, want 429", code)
		}
		f.clock.Add(loginWindow)
		if code := f.loginFrom(t, "10.0.0.1:2", "admin", testPassword); code != http.StatusSeeOther {
			t.Errorf("after the window: %d", code)
		}
	})
	t.Run("one address, one name", func(t *testing.T) {
		f := newFixture(t, false)
		if _, err := AddUser(t.Context(), f.web.Catalog, catalog.Operator, "bob", "bob's password", catalog.Viewer, bcrypt.MinCost); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < pairLimit; i++ {
			f.loginFrom(t, "10.0.0.1:1", "admin", "guess")
		}
		if code := f.loginFrom(t, "10.0.0.1:1", "admin", testPassword); code != http.StatusTooManyRequests {
			t.Errorf("admin from the address that failed: %d, want 429", code)
		}
		if code := f.loginFrom(t, "10.0.0.1:1", "bob", "bob's password"); code != http.StatusSeeOther {
			t.Errorf("another user from that address: %d, want 303", code)
		}
	})
	t.Run("one address, many names", func(t *testing.T) {
		f := newFixture(t, false)
		for i := 0; i < addrLimit; i++ {
			f.loginFrom(t, "[2001:db8:1:2::1]:1", "name"+string(rune('a'+i)), "guess")
		}
		if code := f.loginFrom(t, "[2001:db8:1:2:ffff::9]:1", "admin", testPassword); code != http.StatusTooManyRequests {
			t.Errorf("the same /64 after %d names: %d, want 429", addrLimit, code)
		}
		if code := f.loginFrom(t, "[2001:db8:1:3::1]:1", "admin", testPassword); code != http.StatusSeeOther {
			t.Errorf("another /64: %d, want 303", code)
		}
	})
}

// TestUnknownUserTakesAsLong: a login with an unknown name takes as long
// as one with a known name and a wrong password, with the hashes at a
// cost above bcrypt.MinCost (the cost the server is given, 8 here). The attempts are made in pairs, one of each in
// turn, and timed in CPU time (what the server spends, which the other
// programs of a busy machine do not stretch as they stretch the clock);
// the median of the pairs' ratios must be within 20% of 1 (a hash at
// bcrypt.MinCost made it 0.06).
func TestUnknownUserTakesAsLong(t *testing.T) {
	if testing.Short() {
		t.Skip("bcrypt at cost 8")
	}
	f := newFixture(t, false)
	const cost = 8
	f.web.BcryptCost = cost
	if _, err := AddUser(t.Context(), f.web.Catalog, catalog.Operator, "carol", "carol's password", catalog.Viewer, cost); err != nil {
		t.Fatal(err)
	}
	login := func(name string) time.Duration {
		f.web.limiter = newLimiter() // never the limiter's quick answer
		start := cpuTime(t)
		if code := f.loginFrom(t, "10.9.0.1:1", name, "wrong password"); code != http.StatusUnauthorized {
			t.Fatalf("%s: %d", name, code)
		}
		return cpuTime(t) - start
	}
	login("nobody") // the unknown name's hash is made once
	const pairs = 15
	ratios := make([]float64, pairs)
	for i := range ratios {
		var known, unknown time.Duration
		if i%2 == 0 {
			known, unknown = login("carol"), login("nobody")
		} else {
			unknown, known = login("nobody"), login("carol")
		}
		ratios[i] = float64(unknown) / float64(known)
	}
	sort.Float64s(ratios)
	if m := ratios[pairs/2]; m < 0.8 || m > 1.2 {
		t.Errorf("an unknown name's login takes %.2f times a known name's (median of %d pairs; all: %.2f)", m, pairs, ratios)
	}
	t.Logf("ratios %.2f", ratios)
}
