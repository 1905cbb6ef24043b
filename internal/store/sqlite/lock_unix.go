//go:build unix

package sqlite

import (
	"errors"
	"os"
	"syscall"
)

// Every Open holds a shared flock(2) on the database file until Close, and
// Restore takes an exclusive one: a restore never replaces a database a
// daemon (or any other mailmon command) has open, and no command opens one
// being replaced. flock is apart from the fcntl locks SQLite takes itself.

// errLocked says the other side holds the lock.
var errLocked = errors.New("locked")

func lockFile(path string, exclusive bool) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, err
	}
	return f, nil
}
