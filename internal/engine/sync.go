package engine

import (
	"context"
	"sync"

	"github.com/mailmon/mailmon/internal/store"
)

// fullSyncEvery: even with an unchanged fingerprint, every so many looks
// compare every monitor's version (a safety net, about once a minute at
// the default WatchEvery).
const fullSyncEvery = 6

// syncMark is the monitors' fingerprint at the last full sync, and the
// looks since.
type syncMark struct {
	mu    sync.Mutex
	fp    store.Fingerprint
	ok    bool
	looks int
}

func (m *syncMark) set(fp *store.Fingerprint) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ok, m.looks = fp != nil, 0
	if fp != nil {
		m.fp = *fp
	}
}

// unchanged reads the store's fingerprint of the monitors (nil when the
// store has none, or on a cluster, where a monitor may change hands
// without changing) and says whether it is the last full sync's, recent
// enough to skip comparing every monitor's version.
func (e *Engine) unchanged(ctx context.Context) (*store.Fingerprint, bool) {
	mv, ok := e.o.Store.(store.MonitorVersions)
	if !ok || e.o.Cluster != nil {
		return nil, false
	}
	fp, err := mv.MonitorsFingerprint(ctx)
	if err != nil {
		return nil, false // the full sync reports the store's error
	}
	m := &e.synced
	m.mu.Lock()
	defer m.mu.Unlock()
	m.looks++
	return &fp, m.ok && m.fp == fp && m.looks < fullSyncEvery
}

// syncCredentials reloads the monitors that use a credential changed since
// they were loaded (the part of sync that the fingerprint does not cover).
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
