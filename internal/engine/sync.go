package engine

import (
	"context"
	"sync"

	"github.com/mailmon/mailmon/internal/store"
)

// fullSyncEvery: with the store's counts of writes unchanged, every so many
// looks still compare every monitor's version, about every ten minutes at
// the default WatchEvery. The counts are kept by the database in the
// writing transaction, whoever writes, so a committed change always moves
// them (a look reads them before the rows, and a change committed in
// between moves them again for the next look); this safety net is for
// what no write shows: a database restored under a running daemon with
// counts that happen to match. A failed reload forgets the counts
// (reload: through the API, a cluster's adoption or a look), and a look
// that fails does not keep them. At 100,000 monitors
// a full look takes about 0.4 s of CPU: once a minute it was 0.7 % of the
// daemon's; every ten, a tenth of that.
const fullSyncEvery = 60

// syncMark is the store's counts of writes at the last look that found
// everything loaded up to date, and the looks since the last full one.
type syncMark struct {
	mu    sync.Mutex
	c     store.Changes
	ok    bool
	looks int
}

// set keeps c (nil: the store keeps no counts) as the counts everything
// loaded is up to date with; full: after a full look.
func (m *syncMark) set(c *store.Changes, full bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ok = c != nil
	if c != nil {
		m.c = *c
	}
	if full {
		m.looks = 0
	}
}

// forget makes the next look a full one (a reload failed: what is loaded
// may be older than what the counts say).
func (m *syncMark) forget() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ok = false
}

// lookKind is what a look has to compare.
type lookKind int

const (
	lookAll         lookKind = iota // every monitor's version, its device's, the credentials
	lookNothing                     // nothing was written since the last look
	lookCredentials                 // a credential was written, no monitor or device
)

// changed reads the store's counts of writes (nil when it keeps none) and
// says what was written since the last look. On a cluster as on one node:
// every node loads every monitor (place), held or not, and a monitor that
// changes hands without changing is adopted or given up by the leases
// (cluster.go), which a full look would not do either.
func (e *Engine) changed(ctx context.Context) (*store.Changes, lookKind) {
	mv, ok := e.o.Store.(store.MonitorVersions)
	if !ok {
		return nil, lookAll
	}
	c, err := mv.ConfigChanges(ctx)
	if err != nil {
		return nil, lookAll // the full look reports the store's error
	}
	m := &e.synced
	m.mu.Lock()
	defer m.mu.Unlock()
	m.looks++
	switch {
	case !m.ok || m.looks >= fullSyncEvery || c.Monitors != m.c.Monitors || c.Devices != m.c.Devices:
		return &c, lookAll
	case c.Credentials != m.c.Credentials:
		return &c, lookCredentials
	}
	return &c, lookNothing
}

// syncCredentials reloads the monitors that use a credential changed since
// they were loaded.
func (e *Engine) syncCredentials(ctx context.Context) error {
	stale, err := e.staleCredentials(ctx)
	if err != nil {
		return err
	}
	for _, id := range stale {
		if err := e.reload(ctx, id, startWindow(len(stale))); err != nil {
			return err
		}
	}
	return nil
}
