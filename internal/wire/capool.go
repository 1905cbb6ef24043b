package wire

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// caRecheck is how often a CA file is looked at again (its size and
// modification time) to see whether it changed.
const caRecheck = 5 * time.Second

// cas holds one certificate pool per distinct CA file, shared by every
// monitor, test and OAuth client that names the file: 10,000 monitors with
// one ca: read and parse it once, not 10,000 times. It is package state on
// purpose: a pool is a pure function of the file's contents (and of the
// system's roots), and every caller (the engine, /probe, mailmon check,
// alert e-mail, the OAuth and Graph clients) would otherwise have to thread
// one cache through.
var cas = CAPools{every: caRecheck, now: time.Now} // static: no work at start-up

// CAPool is the pool of the CA file at path alone (a monitor's ca:).
func CAPool(path string) (*x509.CertPool, error) { return cas.Pool(path, false) }

// SystemCAPool is the system's roots and the CA file at path (an OAuth
// endpoint's ca:, trusted besides the public CAs).
func SystemCAPool(path string) (*x509.CertPool, error) { return cas.Pool(path, true) }

// CAPools is a cache of certificate pools, one per file path, each read
// again when the file's size or modification time changes, looked at no
// more often than once per recheck interval.
type CAPools struct {
	every  time.Duration
	now    func() time.Time
	parses atomic.Int64

	mu    sync.Mutex
	files map[caKey]*caFile // made on first use
}

// caKey is a file and whether the system's roots come with it.
type caKey struct {
	path   string
	system bool
}

type caFile struct {
	mu      sync.Mutex
	checked time.Time // when the file was last looked at
	size    int64
	mtime   time.Time
	pool    *x509.CertPool
	err     error
}

func newCAPools(every time.Duration, now func() time.Time) *CAPools {
	return &CAPools{every: every, now: now}
}

// CAParses is how many times a CA file was read and parsed since the
// process started: once per distinct file, and once more per change.
func CAParses() int64 { return cas.parses.Load() }

// Pool returns the pool of the CA file at path (with the system's roots
// when system), read when first asked for and again when the file changed.
// The pool is shared: callers must not add to it.
func (p *CAPools) Pool(path string, system bool) (*x509.CertPool, error) {
	k := caKey{filepath.Clean(path), system}
	path = k.path
	p.mu.Lock()
	if p.files == nil {
		p.files = map[caKey]*caFile{}
	}
	f := p.files[k]
	if f == nil {
		f = &caFile{}
		p.files[k] = f
	}
	p.mu.Unlock()

	f.mu.Lock()
	defer f.mu.Unlock()
	now := p.now()
	if f.pool != nil || f.err != nil {
		if now.Sub(f.checked) < p.every {
			return f.pool, f.err
		}
	}
	f.checked = now
	fi, err := os.Stat(path)
	if err != nil {
		f.pool, f.err, f.size, f.mtime = nil, err, 0, time.Time{}
		return nil, err
	}
	if (f.pool != nil || f.err != nil) && fi.Size() == f.size && fi.ModTime().Equal(f.mtime) {
		return f.pool, f.err
	}
	f.size, f.mtime = fi.Size(), fi.ModTime()
	f.pool, f.err = p.parse(path, system)
	return f.pool, f.err
}

func (p *CAPools) parse(path string, system bool) (*x509.CertPool, error) {
	p.parses.Add(1)
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if system {
		if sys, err := x509.SystemCertPool(); err == nil && sys != nil {
			roots = sys // a copy of the system's pool, ours to add to
		}
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return roots, nil
}
