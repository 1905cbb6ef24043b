package sqlstore

import (
	"context"
	"time"
)

// SetRollReadRows sets how many results a read of the hourly roll-up
// takes, about, until the test ends.
func SetRollReadRows(t interface{ Cleanup(func()) }, n int) {
	old := rollReadRows
	rollReadRows = n
	t.Cleanup(func() { rollReadRows = old })
}

// SetPartMonitors sets how many monitors a part of the janitor's writes
// takes until the test ends.
func SetPartMonitors(t interface{ Cleanup(func()) }, n int) {
	old := partMonitors
	partMonitors = n
	t.Cleanup(func() { partMonitors = old })
}

// WrapWriter makes s write through wrap(its writer).
func WrapWriter(s *Store, wrap func(DB) DB) {
	s.db = wrap(s.db)
	s.w = s.db
}

// SetRest makes the janitor rest between its parts by calling f until
// the test ends.
func SetRest(t interface{ Cleanup(func()) }, f func(ctx context.Context, d time.Duration) error) {
	old := rest
	rest = f
	t.Cleanup(func() { rest = old })
}
