package catalog

import (
	"context"
	"errors"
	"fmt"

	"github.com/mailmon/mailmon/internal/store"
)

// A save reads the secrets it writes back, and a device's address change
// drops its monitors' secrets: each runs in one transaction, so that a
// monitor saved at the moment its device moves cannot write back a secret
// read before the drop. SQLite's transactions take its write lock from
// their start: they run one after the other. PostgreSQL's (read
// committed) may interleave, so a save whose secrets depend on device
// addresses checks, after its writes, that the addresses are those it
// read; if one moved, it is rolled back and made again on what is stored
// now.

// errMoved is a save that met a device's address change.
var errMoved = errors.New("a device's address changed while the save was written")

// triesMoved is how often a save is made again for errMoved.
const triesMoved = 3

// batch runs fn in one transaction, again while it meets an address change.
func (c *Catalog) batch(ctx context.Context, fn func(store.Config) error) error {
	for try := 1; ; try++ {
		err := store.Batch(ctx, c.Store, fn)
		if !errors.Is(err, errMoved) || try == triesMoved {
			return err
		}
	}
}

// addresses are the devices' addresses a save read, by device ID.
type addresses map[int64]string

// read reads a device's address through s and remembers it.
func (a addresses) read(ctx context.Context, s store.Config, device int64) (string, error) {
	d, err := s.Device(ctx, device)
	if err != nil {
		return "", err
	}
	a[device] = d.Address
	return d.Address, nil
}

// unchanged returns errMoved if a device now has another address (or is
// gone) than the one read.
func (a addresses) unchanged(ctx context.Context, s store.Config) error {
	for id, addr := range a {
		d, err := s.Device(ctx, id)
		if errors.Is(err, store.ErrNotFound) || err == nil && d.Address != addr {
			return fmt.Errorf("device %d: %w", id, errMoved)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
