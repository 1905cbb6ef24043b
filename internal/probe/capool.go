package probe

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
// monitor and test that names the file: 10,000 monitors with one ca: read
// and parse it once, not 10,000 times. It is package state on purpose: a
// pool is a pure function of the file's contents, and every caller of
// Validate and Run (the engine, /probe, mailmon check, alert e-mail) would
// otherwise have to thread one cache through.
var cas = newCAPools(caRecheck, time.Now)

// CAPools is a cache of certificate pools, one per file path, each read
// again when the file's size or modification time changes, looked at no
// more often than once per recheck interval.
type CAPools struct {
	every  time.Duration
	now    func() time.Time
	parses atomic.Int64

	mu    sync.Mutex
	files map[string]*caFile
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
	return &CAPools{every: every, now: now, files: map[string]*caFile{}}
}

// CAParses is how many times a CA file was read and parsed since the
// process started: once per distinct file, and once more per change.
func CAParses() int64 { return cas.parses.Load() }

// Pool returns the pool of the CA file at path, read when first asked for
// and again when the file changed.
func (p *CAPools) Pool(path string) (*x509.CertPool, error) {
	path = filepath.Clean(path)
	p.mu.Lock()
	f := p.files[path]
	if f == nil {
		f = &caFile{}
		p.files[path] = f
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
	f.pool, f.err = p.parse(path)
	return f.pool, f.err
}

func (p *CAPools) parse(path string) (*x509.CertPool, error) {
	p.parses.Add(1)
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return roots, nil
}
