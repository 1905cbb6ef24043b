package probe

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/testutil/certs"
)

// clock is a time a test sets, read by concurrent handshakes.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) now() time.Time   { return time.Unix(0, c.ns.Load()) }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }

// handshakeWith runs one handshake of c as a test's "tls" phase, its chain
// verified through cc at the time of now, against a server presenting
// cert, and returns the test's result.
func handshakeWith(t *testing.T, c Config, cc *chainCache, now func() time.Time, cert tls.Certificate) *Result {
	t.Helper()
	tr := NewTrace(t.Context(), now)
	cfg, err := c.tlsConfigWith(tr, cc)
	if err != nil {
		t.Fatal(err)
	}
	err = tr.Step("tls", func() error { return handshakePair(cfg, certs.ServerConfig(cert)) })
	return tr.Result(&c, err)
}

func wantVerified(t *testing.T, r *Result) {
	t.Helper()
	if r.Status != StatusUp || r.TLS == nil || !r.TLS.Verified {
		t.Fatalf("status %s, error %+v, tls %+v: want up and verified", r.Status, r.Error, r.TLS)
	}
}

// wantRejected: the chain was refused by verification (x509's message
// in the detail), not by the judgement of the leaf's dates after it.
func wantRejected(t *testing.T, r *Result, detail string) {
	t.Helper()
	if r.Status != StatusDown || r.Error == nil || r.Error.Code != CertInvalid || r.Error.Phase != "tls" ||
		!strings.Contains(r.Error.Detail, "x509: ") || !strings.Contains(r.Error.Detail, detail) || r.TLS == nil || r.TLS.Verified {
		t.Fatalf("status %s, error %+v, tls %+v: want cert_invalid in tls from x509 saying %q", r.Status, r.Error, r.TLS, detail)
	}
}

func wantVerifies(t *testing.T, cc *chainCache, n int64) {
	t.Helper()
	if got := cc.verifies.Load(); got != n {
		t.Errorf("%d chains built by x509, want %d", got, n)
	}
}

func cacheConfig(roots *x509.CertPool) Config {
	return Config{Type: "smtp", Host: "localhost", Port: 25, TLS: TLSStartTLS, RootCAs: roots}
}

// TestChainCacheHit: the same chain, name and pool verify once; the next
// test reports the same certificate, verified.
func TestChainCacheHit(t *testing.T) {
	ca := certs.NewCA(t)
	cert := ca.Issue(t, certs.Leaf{})
	cc := newChainCache(10, time.Hour)
	c := cacheConfig(ca.Pool())
	first := handshakeWith(t, c, cc, time.Now, cert)
	wantVerified(t, first)
	second := handshakeWith(t, c, cc, time.Now, cert)
	wantVerified(t, second)
	wantVerifies(t, cc, 1)
	if first.TLS.CertSubject != "CN=localhost" || second.TLS.CertSubject != first.TLS.CertSubject ||
		second.TLS.CertIssuer != "CN=mailmon test CA" || strings.Join(second.TLS.CertNames, ",") != "localhost,127.0.0.1,::1" {
		t.Errorf("second test's certificate %+v, first %+v", second.TLS, first.TLS)
	}
}

// TestChainCacheRotated: a server that changes its certificate is seen
// with the new one on the very next test.
func TestChainCacheRotated(t *testing.T) {
	ca := certs.NewCA(t)
	cc := newChainCache(10, time.Hour)
	c := cacheConfig(ca.Pool())
	old := handshakeWith(t, c, cc, time.Now, ca.Issue(t, certs.Leaf{}))
	wantVerified(t, old)
	rotated := ca.Issue(t, certs.Leaf{Names: []string{"mx2.example", "localhost"}, NotAfter: time.Now().Add(30*24*time.Hour + time.Hour)})
	r := handshakeWith(t, c, cc, time.Now, rotated)
	wantVerified(t, r)
	if r.TLS.CertSubject != "CN=mx2.example" || r.TLS.DaysLeft != 30 || !r.TLS.CertNotAfter.Equal(rotated.Leaf.NotAfter.UTC()) {
		t.Errorf("after rotation: subject %q, %d days left, not after %v; want the new certificate's (CN=mx2.example, 30)",
			r.TLS.CertSubject, r.TLS.DaysLeft, r.TLS.CertNotAfter)
	}
	wantVerifies(t, cc, 2)
}

// TestChainCacheDates: a verified chain stands only while every certificate
// in it is within its dates. The intermediate CA's dates are inside the
// leaf's, so the leaf's own judgement (judgeCert) cannot catch them: only
// the cache can.
func TestChainCacheDates(t *testing.T) {
	now := time.Now()
	root := certs.NewCA(t)
	mid := root.Intermediate(t, now.Add(-time.Minute), now.Add(30*time.Minute))
	cert := mid.Issue(t, certs.Leaf{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour)})
	for _, tc := range []struct {
		name   string
		later  time.Duration // after the verification
		detail string        // x509's, "" for verified
	}{
		{"still valid", 20 * time.Minute, ""},
		{"the intermediate expired", 31 * time.Minute, "expired"},
		{"before the intermediate", -2 * time.Minute, "not yet valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := newChainCache(10, time.Hour)
			clk := newClock(now)
			c := cacheConfig(root.Pool())
			wantVerified(t, handshakeWith(t, c, cc, clk.now, cert))
			clk.set(now.Add(tc.later))
			r := handshakeWith(t, c, cc, clk.now, cert)
			if tc.detail == "" {
				wantVerified(t, r)
				wantVerifies(t, cc, 1)
				return
			}
			wantRejected(t, r, tc.detail)
		})
	}
}

// TestChainCacheLeafExpires: a leaf that expires after it was verified
// fails verification itself on the next test.
func TestChainCacheLeafExpires(t *testing.T) {
	now := time.Now()
	ca := certs.NewCA(t)
	cert := ca.Issue(t, certs.Leaf{NotAfter: now.Add(time.Second)})
	cc := newChainCache(10, time.Hour)
	clk := newClock(now)
	c := cacheConfig(ca.Pool())
	wantVerified(t, handshakeWith(t, c, cc, clk.now, cert))
	clk.set(now.Add(2 * time.Second))
	wantRejected(t, handshakeWith(t, c, cc, clk.now, cert), "expired")
}

// TestChainCacheMaxAge: a verification is trusted an hour at most.
func TestChainCacheMaxAge(t *testing.T) {
	now := time.Now()
	ca := certs.NewCA(t)
	cert := ca.Issue(t, certs.Leaf{})
	cc := newChainCache(10, time.Hour)
	clk := newClock(now)
	c := cacheConfig(ca.Pool())
	for _, later := range []time.Duration{0, 59 * time.Minute, 61 * time.Minute} {
		clk.set(now.Add(later))
		wantVerified(t, handshakeWith(t, c, cc, clk.now, cert))
	}
	wantVerifies(t, cc, 2)
}

// TestChainCachePools: a chain verified against one pool is not taken as
// verified against another: a monitor with another CA rejects it, even
// after one that trusts it verified it.
func TestChainCachePools(t *testing.T) {
	ca, other := certs.NewCA(t), certs.NewCA(t)
	cert := ca.Issue(t, certs.Leaf{})
	cc := newChainCache(10, time.Hour)
	wantVerified(t, handshakeWith(t, cacheConfig(ca.Pool()), cc, time.Now, cert))
	wantRejected(t, handshakeWith(t, cacheConfig(other.Pool()), cc, time.Now, cert), "unknown authority")
	// The system's roots (no pool) do not know the test CA either.
	wantRejected(t, handshakeWith(t, cacheConfig(nil), cc, time.Now, cert), "unknown authority")
}

// TestChainCacheName: a chain verified for one name is not taken as
// verified for another; and should an entry ever be found for a name the
// leaf is not for, the name check of a hit still refuses it.
func TestChainCacheName(t *testing.T) {
	ca := certs.NewCA(t)
	cert := ca.Issue(t, certs.Leaf{})
	cc := newChainCache(10, time.Hour)
	c := cacheConfig(ca.Pool())
	wantVerified(t, handshakeWith(t, c, cc, time.Now, cert))
	c.ServerName = "mail.other.example"
	wantRejected(t, handshakeWith(t, c, cc, time.Now, cert), "mail.other.example")

	// A forged entry, as a bug in the key would make: verified for
	// mail.other.example with this chain and pool.
	pool := ca.Pool()
	c.RootCAs = pool
	k := chainKey{chain: chainHash([]*x509.Certificate{cert.Leaf}), roots: pool, name: "mail.other.example"}
	cc.entries().Add(k, &chainEntry{notBefore: cert.Leaf.NotBefore, notAfter: cert.Leaf.NotAfter, until: time.Now().Add(time.Hour), facts: newCertFacts(cert.Leaf)})
	before := cc.verifies.Load()
	wantRejected(t, handshakeWith(t, c, cc, time.Now, cert), "mail.other.example")
	wantVerifies(t, cc, before) // refused on the hit itself
}

// TestChainCacheFailuresNotKept: a chain that fails is verified again
// every time.
func TestChainCacheFailuresNotKept(t *testing.T) {
	ca := certs.NewCA(t)
	cert := ca.Issue(t, certs.Leaf{})
	cc := newChainCache(10, time.Hour)
	for range 3 {
		wantRejected(t, handshakeWith(t, cacheConfig(nil), cc, time.Now, cert), "unknown authority")
	}
	wantVerifies(t, cc, 3)
	if n := cc.entries().Len(); n != 0 {
		t.Errorf("%d entries after failures, want none", n)
	}
}

// TestChainCacheInsecure: insecure_skip_verify verifies nothing and keeps
// nothing; a mismatched name is still reported.
func TestChainCacheInsecure(t *testing.T) {
	ca := certs.NewCA(t)
	cc := newChainCache(10, time.Hour)
	c := cacheConfig(nil)
	c.InsecureSkipVerify = true
	r := handshakeWith(t, c, cc, time.Now, ca.OtherHost(t))
	if r.Status != StatusUp || r.TLS == nil || r.TLS.Verified || r.TLS.NameMismatch != "localhost" || r.TLS.CertSubject != "CN=mail.other.example" {
		t.Errorf("status %s tls %+v", r.Status, r.TLS)
	}
	wantVerifies(t, cc, 0)
}

// TestChainCacheBounded: the cache keeps at most its size.
func TestChainCacheBounded(t *testing.T) {
	ca := certs.NewCA(t)
	cc := newChainCache(2, time.Hour)
	for range 4 {
		wantVerified(t, handshakeWith(t, cacheConfig(ca.Pool()), cc, time.Now, ca.Issue(t, certs.Leaf{})))
	}
	if n := cc.entries().Len(); n != 2 {
		t.Errorf("%d entries, want 2", n)
	}
}

// TestChainCacheCAFileReloaded: when a monitor's ca: file is replaced, the
// new pool (read again within the CA pools' recheck interval, a few
// seconds) judges the chain; the old pool's entry is not used.
func TestChainCacheCAFileReloaded(t *testing.T) {
	t.Parallel() // waits for the CA file's recheck
	ca, other := certs.NewCA(t), certs.NewCA(t)
	file := ca.File(t)
	cert := ca.Issue(t, certs.Leaf{})
	cc := newChainCache(10, time.Hour)
	c := cacheConfig(nil)
	c.CAFile = file
	wantVerified(t, handshakeWith(t, c, cc, time.Now, cert))
	if err := os.WriteFile(file, append(other.PEM, "\n"...), 0o644); err != nil { // another size: seen as changed
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := handshakeWith(t, c, cc, time.Now, cert)
		if r.Status == StatusDown {
			wantRejected(t, r, "unknown authority")
			return
		}
		wantVerified(t, r)
		if time.Now().After(deadline) {
			t.Fatal("the replaced CA file still verifies the old CA's certificate after 30 s")
		}
		time.Sleep(100 * time.Millisecond) // the pools look at the file again after caRecheck: nothing to wait on
	}
}

// TestChainCacheConcurrent: handshakes at once against servers with the
// same and different chains share the cache (run with -race).
func TestChainCacheConcurrent(t *testing.T) {
	ca := certs.NewCA(t)
	servers := []*tls.Config{certs.ServerConfig(ca.Issue(t, certs.Leaf{})), certs.ServerConfig(ca.Issue(t, certs.Leaf{}))}
	pool := ca.Pool()
	cc := newChainCache(10, time.Hour)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Go(func() {
			for range 4 {
				c := cacheConfig(pool)
				tr := NewTrace(t.Context(), time.Now)
				cfg, err := c.tlsConfigWith(tr, cc)
				if err == nil {
					err = handshakePair(cfg, servers[i%2])
				}
				if err == nil && !tr.cert.verified {
					err = errors.New("not verified")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := cc.verifies.Load(); n < 2 || n > 16 {
		t.Errorf("%d chains built for 64 handshakes against 2 chains, want 2 (a few more when they race)", n)
	}
}

// BenchmarkChainVerify: judging a server's chain (one leaf under the test
// CA, ECDSA P-256) by crypto/x509 each time (miss: an entry too old to
// use) and from the cache (hit).
func BenchmarkChainVerify(b *testing.B) {
	ca := certs.NewCA(b)
	cert := ca.Issue(b, certs.Leaf{})
	pool, chain := ca.Pool(), []*x509.Certificate{cert.Leaf}
	for _, tc := range []struct {
		name   string
		maxAge time.Duration
	}{{"miss", -time.Hour}, {"hit", time.Hour}} {
		b.Run(tc.name, func(b *testing.B) {
			cc := newChainCache(10, tc.maxAge)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := cc.verify(chain, pool, "localhost", time.Now()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
