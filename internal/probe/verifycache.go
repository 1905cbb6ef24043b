package probe

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/mailmon/mailmon/internal/wire"
)

// A server presents the same certificate chain, byte for byte, test after
// test; building and checking the chain (an ECDSA or RSA verification per
// link) is a sixth of a STARTTLS test's CPU. So a chain that verified is
// remembered, and a later test that is shown the same chain, for the same
// name, against the same root pool, does not build it again:
//   - the key is a SHA-256 of every certificate's DER as presented, in
//     order, the *x509.CertPool by identity (the shared pool of a CA file
//     is replaced, never changed, when the file changes, so a reloaded file
//     misses; nil is the system's roots) and the name verified for;
//   - an entry is used only while every certificate of the verified chain is
//     within its validity dates at the test's time, and for at most
//     chainMaxAge after the verification;
//   - a hit still checks the leaf for the name, and crypto/tls still checks
//     the server's signature over the handshake (CertificateVerify) on
//     every handshake: the server proves every time that it holds the key.
//
// A failed verification is never remembered: it is done again next time.
// The cache holds no secret (certificates are public) and no certificate,
// only the facts a result shows of the leaf.
//
// It is package state on purpose, as the CA pools are (wire.CAPool): a
// verdict is a pure function of the key and the time, and every caller
// (the engine, /probe, mailmon check) gains from one cache. Static: made
// on first use, nothing allocated at start-up.
var verifiedChains = chainCache{size: chainCacheSize, maxAge: chainMaxAge}

const (
	// chainCacheSize bounds the entries: one per distinct server chain,
	// name and pool, so far more than a node's distinct servers.
	chainCacheSize = 10_000
	// chainMaxAge is how long a verification is trusted at most, whatever
	// else might have changed unseen.
	chainMaxAge = time.Hour
)

type chainKey struct {
	chain [sha256.Size]byte // the DER of every certificate presented, in order
	roots *x509.CertPool    // verified against, by identity; nil: the system's roots
	name  string            // verified for
}

type chainEntry struct {
	notBefore, notAfter time.Time // every certificate of the verified chain is valid between
	until               time.Time // the verification is trusted until then (chainMaxAge)
	facts               *certFacts
}

// usable reports whether the entry stands at now: x509's own test of each
// certificate's dates (valid from NotBefore to NotAfter, both included),
// and the age limit.
func (e *chainEntry) usable(now time.Time) bool {
	return !now.Before(e.notBefore) && !now.After(e.notAfter) && now.Before(e.until)
}

// chainCache is a bounded, least-recently-used set of verified chains, safe
// for concurrent use (golang-lru's Cache locks).
type chainCache struct {
	size     int
	maxAge   time.Duration
	verifies atomic.Int64 // chains built by crypto/x509 (misses)

	once sync.Once
	lru  *lru.Cache[chainKey, *chainEntry]
}

func newChainCache(size int, maxAge time.Duration) *chainCache {
	return &chainCache{size: size, maxAge: maxAge}
}

// entries is the LRU, made on first use.
func (cc *chainCache) entries() *lru.Cache[chainKey, *chainEntry] {
	cc.once.Do(func() {
		var err error
		if cc.lru, err = lru.New[chainKey, *chainEntry](cc.size); err != nil {
			panic(err) // only for a size < 1
		}
	})
	return cc.lru
}

// verify verifies the server's certificates (leaf first, then what it sent
// to help build the chain) for name against roots at now, as crypto/tls
// would, remembering a success. It returns the leaf's facts for the result.
func (cc *chainCache) verify(certs []*x509.Certificate, roots *x509.CertPool, name string, now time.Time) (*certFacts, error) {
	leaf, entries := certs[0], cc.entries()
	k := chainKey{chain: chainHash(certs), roots: roots, name: name}
	if e, ok := entries.Get(k); ok {
		if e.usable(now) {
			// The key holds the name, so this cannot fail; checked all
			// the same, it is cheap.
			if name != "" {
				if err := leaf.VerifyHostname(name); err != nil {
					return nil, err
				}
			}
			return e.facts, nil
		}
		entries.Remove(k)
	}
	cc.verifies.Add(1)
	opts := x509.VerifyOptions{
		Roots:         roots,
		DNSName:       name,
		Intermediates: x509.NewCertPool(),
		CurrentTime:   now,
	}
	for _, ic := range certs[1:] {
		opts.Intermediates.AddCert(ic)
	}
	verified, err := leaf.Verify(opts)
	if err != nil {
		return nil, err
	}
	// Any one chain that verified stands while all its certificates are
	// in their dates: the first is as good as another.
	e := &chainEntry{notBefore: leaf.NotBefore, notAfter: leaf.NotAfter, until: now.Add(cc.maxAge), facts: newCertFacts(leaf)}
	for _, c := range verified[0] {
		if c.NotBefore.After(e.notBefore) {
			e.notBefore = c.NotBefore
		}
		if c.NotAfter.Before(e.notAfter) {
			e.notAfter = c.NotAfter
		}
	}
	entries.Add(k, e)
	return e.facts, nil
}

// chainHash digests every certificate's DER, each preceded by its length
// so that no two different chains run together into the same bytes.
func chainHash(certs []*x509.Certificate) [sha256.Size]byte {
	h := sha256.New()
	var n [4]byte
	for _, c := range certs {
		binary.BigEndian.PutUint32(n[:], uint32(len(c.Raw)))
		h.Write(n[:])
		h.Write(c.Raw)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// certFacts is what a result shows of a leaf certificate beyond its dates:
// worked out once per verified chain rather than once per test.
type certFacts struct {
	subject, issuer string
	names           []string // DNS names and IP addresses, sanitized; shared: never changed
}

func newCertFacts(leaf *x509.Certificate) *certFacts {
	f := &certFacts{
		subject: wire.Sanitize(leaf.Subject.String()),
		issuer:  wire.Sanitize(leaf.Issuer.String()),
	}
	for _, n := range leaf.DNSNames {
		f.names = append(f.names, wire.Sanitize(n))
	}
	for _, ip := range leaf.IPAddresses {
		f.names = append(f.names, ip.String())
	}
	f.names = slices.Clip(f.names) // an append by a reader copies
	return f
}
