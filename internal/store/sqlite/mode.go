package sqlite

import (
	"errors"
	"io/fs"
	"os"
)

// createPrivate creates the database file with mode 0600 when it does not
// exist: it holds sealed secrets and the hashes of logins and tokens. SQLite
// gives its -wal and -shm files the mode of the database file, so they are
// private too. An existing file keeps the mode its owner gave it.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}
