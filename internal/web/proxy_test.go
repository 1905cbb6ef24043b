package web

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/testutil/syncbuf"
)

// TestProxiesClient: the forwarding headers count only from a trusted
// peer, the client is the rightmost hop that is not a trusted proxy, and
// scheme and host come with it.
func TestProxiesClient(t *testing.T) {
	p, err := ParseProxies("10.0.0.0/24, 192.0.2.9,2001:db8::/64")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		peer   string
		hdr    http.Header
		want   Client
		direct bool
	}{
		{"no proxy", "198.51.100.7:4000", nil, Client{Addr: "198.51.100.7", Scheme: "http", Host: "mailmon:8080"}, true},
		{"untrusted peer's headers ignored", "198.51.100.7:4000",
			http.Header{"X-Forwarded-For": {"203.0.113.1"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"evil.example"}},
			Client{Addr: "198.51.100.7", Scheme: "http", Host: "mailmon:8080"}, true},
		{"x-forwarded", "10.0.0.5:4000",
			http.Header{"X-Forwarded-For": {"203.0.113.1"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"mon.example.com"}},
			Client{Addr: "203.0.113.1", Scheme: "https", Host: "mon.example.com", Proxied: true}, false},
		{"a made-up hop left of the real client", "10.0.0.5:4000",
			http.Header{"X-Forwarded-For": {"1.2.3.4, 203.0.113.1", "10.0.0.7"}},
			Client{Addr: "203.0.113.1", Scheme: "http", Host: "mailmon:8080", Proxied: true}, false},
		{"all hops proxies: the leftmost", "10.0.0.5:4000",
			http.Header{"X-Forwarded-For": {"10.0.0.8, 192.0.2.9"}},
			Client{Addr: "10.0.0.8", Scheme: "http", Host: "mailmon:8080", Proxied: true}, false},
		{"junk hop: the peer", "10.0.0.5:4000",
			http.Header{"X-Forwarded-For": {"not-an-address"}, "X-Forwarded-Proto": {"gopher"}},
			Client{Addr: "10.0.0.5", Scheme: "http", Host: "mailmon:8080"}, false},
		{"forwarded wins, quoted IPv6 with a port", "[2001:db8::1]:4000",
			http.Header{"Forwarded": {`for="[2001:db8:cafe::17]:4711";proto=https;host=mon.example.com`}, "X-Forwarded-For": {"203.0.113.1"}},
			Client{Addr: "2001:db8:cafe::17", Scheme: "https", Host: "mon.example.com", Proxied: true}, false},
		{"forwarded chain", "10.0.0.5:4000",
			http.Header{"Forwarded": {"for=1.2.3.4;proto=http, for=203.0.113.9;proto=https;host=a.example", "for=10.0.0.6"}},
			Client{Addr: "203.0.113.9", Scheme: "https", Host: "a.example", Proxied: true}, false},
		{"a host with a path refused", "10.0.0.5:4000",
			http.Header{"X-Forwarded-For": {"203.0.113.1"}, "X-Forwarded-Host": {"a.example/x"}},
			Client{Addr: "203.0.113.1", Scheme: "http", Host: "mailmon:8080", Proxied: true}, false},
		{"a v4-mapped peer", "[::ffff:10.0.0.5]:4000",
			http.Header{"X-Forwarded-For": {"203.0.113.1"}},
			Client{Addr: "203.0.113.1", Scheme: "http", Host: "mailmon:8080", Proxied: true}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://mailmon:8080/", nil)
			r.RemoteAddr = c.peer
			for k, v := range c.hdr {
				r.Header[k] = v
			}
			if got := p.Client(r); got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
			if got := (Proxies{}).Client(r); got.Proxied || got.Host != "mailmon:8080" {
				t.Errorf("no trusted proxies: %+v", got)
			}
		})
	}
	for _, bad := range []string{"10.0.0.0/33", "mailmon.example.com", "10.0.0.1-10.0.0.9"} {
		if _, err := ParseProxies(bad); err == nil {
			t.Errorf("ParseProxies(%q) accepted", bad)
		}
	}
}

// TestBehindReverseProxy is issue 22's proxy test: mailmon behind a small
// reverse proxy (httputil.ReverseProxy, which sets X-Forwarded-For, -Proto
// and -Host), two clients on their own loopback addresses. Five bad
// logins from one do not lock the other out; cookies are Secure when the
// proxy speaks HTTPS, though mailmon behind it does not; a form posted
// with the proxy's origin passes the same-origin check.
func TestBehindReverseProxy(t *testing.T) {
	for _, https := range []bool{false, true} {
		name := "http"
		if https {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, false)
			var err error
			if f.web.Proxies, err = ParseProxies("127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			var logs syncbuf.Buffer
			f.web.Log = slog.New(slog.NewTextHandler(&logs, nil))
			target, _ := url.Parse(f.srv.URL)
			rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(target)
				pr.SetXForwarded()
			}}
			proxy := httptest.NewUnstartedServer(rp)
			if https {
				proxy.StartTLS()
			} else {
				proxy.Start()
			}
			t.Cleanup(proxy.Close)
			attacker, user := viaProxy(t, proxy, "127.0.0.2"), viaProxy(t, proxy, "127.0.0.3")

			for i := 0; i < pairLimit; i++ {
				if code := attacker.loginWithOrigin(t, "admin", "guess", proxy.URL); code != http.StatusUnauthorized {
					t.Fatalf("bad login %d through the proxy: %d, want 401", i+1, code)
				}
			}
			if !strings.Contains(logs.String(), `msg="web login failed" user=admin client=127.0.0.2`) {
				t.Errorf("the log does not name the forwarded client of the failed logins:\n%s", logs.String())
			}
			if code := attacker.loginWithOrigin(t, "admin", testPassword, proxy.URL); code != http.StatusTooManyRequests {
				t.Errorf("the client that failed %d times: %d, want 429", pairLimit, code)
			}
			if code := user.loginWithOrigin(t, "admin", testPassword, proxy.URL); code != http.StatusSeeOther {
				t.Errorf("another client through the same proxy: %d, want 303 (logged in)", code)
			}

			resp, err := attacker.c.Get(proxy.URL + "/login") // not logged in: a login cookie
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			cookies := resp.Cookies()
			if len(cookies) == 0 {
				t.Fatal("no cookie set by /login")
			}
			for _, c := range cookies {
				if c.Secure != https {
					t.Errorf("cookie %s: Secure %v behind a proxy speaking %s", c.Name, c.Secure, name)
				}
			}
		})
	}
}

// viaProxy is a browser that reaches proxy from the loopback address
// local.
func viaProxy(t *testing.T, proxy *httptest.Server, local string) *browser {
	t.Helper()
	tr := proxy.Client().Transport.(*http.Transport).Clone()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{}
	}
	jar, _ := cookiejar.New(nil)
	return &browser{base: proxy.URL, c: &http.Client{Transport: tr, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// loginWithOrigin logs in as a browser does, sending the page's Origin.
func (b *browser) loginWithOrigin(t *testing.T, name, pw, origin string) int {
	t.Helper()
	b.get(t, "/login")
	code, _, _ := b.post(t, "/login", url.Values{"name": {name}, "password": {pw}, "next": {"/"}}, map[string]string{"Origin": origin})
	return code
}
