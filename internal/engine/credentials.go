package engine

import (
	"context"
	"slices"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// A monitor holds the credentials of its recoveries over SSH opened in
// memory (loadCredentials), read when it is loaded. A credential changed
// since (a new password or key, another known_host, renamed or deleted)
// reloads the monitors that use it: at once when the change is made
// through this daemon (ReloadCredentials, from the API and the web UI),
// and within WatchEvery when it is made elsewhere (apply, another node),
// by comparing each credential's stored version with the one each
// monitor read (sync).

// ReloadCredentials reloads the monitors whose recoveries name one of
// names (a credential's old and new name, when it was renamed).
func (e *Engine) ReloadCredentials(ctx context.Context, names ...string) error {
	for _, id := range e.usingCredentials(func(name string, _ time.Time) bool { return slices.Contains(names, name) }) {
		if err := e.Reload(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// staleCredentials are the loaded monitors that read a credential at
// another version than the stored one (or one since created or deleted).
func (e *Engine) staleCredentials(ctx context.Context) ([]int64, error) {
	now := map[string]time.Time{}
	err := store.Walk(ctx, 500, e.o.Store.Credentials, store.CredentialID, func(cs []store.Credential, _ int) error {
		for _, c := range cs {
			now[c.Name] = c.Updated
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e.usingCredentials(func(name string, seen time.Time) bool { return !now[name].Equal(seen) }), nil
}

// usingCredentials are the loaded monitors that read a credential for
// which match is true, given its name and the version they read: those
// of the credentials index (credUsers), not every monitor loaded, most
// of which read none.
func (e *Engine) usingCredentials(match func(name string, seen time.Time) bool) []int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []int64
	for name, ids := range e.credUsers {
		for id := range ids {
			if match(name, e.monitors[id].credSeen()[name]) {
				out = append(out, id)
			}
		}
	}
	slices.Sort(out) // reloaded in id order, each once
	return slices.Compact(out)
}

// setEntry makes en (nil: none) monitor id's loaded entry, and keeps the
// credentials index; e.mu held.
func (e *Engine) setEntry(id int64, en *entry) {
	if old := e.monitors[id]; old != nil {
		for name := range old.credSeen() {
			delete(e.credUsers[name], id)
			if len(e.credUsers[name]) == 0 {
				delete(e.credUsers, name)
			}
		}
	}
	if en == nil {
		delete(e.monitors, id)
		return
	}
	e.monitors[id] = en
	for name := range en.credSeen() {
		if e.credUsers[name] == nil {
			e.credUsers[name] = map[int64]struct{}{}
		}
		e.credUsers[name][id] = struct{}{}
	}
}
