//go:build !unix

package sqlite

import (
	"errors"
	"os"
)

// errLocked is never returned here: without flock(2), Restore cannot tell
// a database in use (the docs say to stop the daemon first).
var errLocked = errors.New("locked")

func lockFile(path string, exclusive bool) (*os.File, error) {
	return os.Open(path)
}
