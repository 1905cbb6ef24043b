package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
)

// Backup writes a consistent copy of the database at path to dest while a
// daemon goes on reading and writing it: VACUUM INTO copies one read
// transaction's snapshot (WAL lets the writer go on meanwhile) into a
// private file beside dest, which is checked (PRAGMA integrity_check) and
// then renamed into place, so that dest is never half written.
func Backup(ctx context.Context, path, dest string) error {
	if _, err := os.Stat(path); err != nil {
		return err // never create an empty database to back up
	}
	db, err := sql.Open("sqlite", dsn(path, "rw"))
	if err != nil {
		return err
	}
	defer db.Close()
	tmp, err := privateTemp(dest)
	if err != nil {
		return err
	}
	defer os.Remove(tmp) // after the rename, nothing is there
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		return fmt.Errorf("copying %s: %w", path, err)
	}
	if err := Check(ctx, tmp); err != nil {
		return fmt.Errorf("the copy of %s: %w", path, err)
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	return os.Rename(tmp, dest)
}

// Check opens the database file at path read-only and says whether it is
// whole (PRAGMA integrity_check) and mailmon's (it has the migrations'
// version table).
func Check(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", dsn(path, "ro"))
	if err != nil {
		return err
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return fmt.Errorf("not a SQLite database: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("damaged (integrity_check: %s)", res)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = 'goose_db_version'").Scan(&n); err != nil || n == 0 {
		return errors.New("not a mailmon database (no schema version)")
	}
	return nil
}

// ErrInUse is Restore's refusal to replace a database that is open.
var ErrInUse = errors.New("the database is in use: stop the daemon (systemctl stop mailmon) and any other mailmon command using it, then restore")

// Restore replaces the database at path with the backup src (checked
// first), refusing (ErrInUse) while any mailmon command, a daemon above
// all, has it open. The database it replaces, if any, is kept as
// path.before-restore. It returns that name ("" when there was none).
func Restore(ctx context.Context, src, path string) (kept string, err error) {
	if err := Check(ctx, src); err != nil {
		return "", fmt.Errorf("%s: %w", src, err)
	}
	tmp, err := privateTemp(path)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	if err := copyFile(src, tmp); err != nil {
		return "", err
	}
	lock, err := lockFile(path, true)
	switch {
	case errors.Is(err, errLocked):
		return "", ErrInUse
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return "", err
	default:
		defer lock.Close()
		// Fold a crashed daemon's write-ahead log into the file it keeps,
		// so that the kept copy is whole and the log cannot be replayed
		// into the restored database.
		if err := checkpoint(ctx, path); err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		// A hard link, then a rename over path: the path is never
		// missing, so no command starting meanwhile makes an empty one.
		kept = path + ".before-restore"
		if err := os.Remove(kept); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		if err := os.Link(path, kept); err != nil {
			return "", err
		}
	}
	for _, f := range []string{path + "-wal", path + "-shm"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return kept, err
		}
	}
	return kept, os.Rename(tmp, path)
}

func dsn(path, mode string) string {
	q := url.Values{}
	q.Set("mode", mode)
	q.Add("_pragma", "busy_timeout(10000)")
	return fileURI(path) + "?" + q.Encode()
}

// checkpoint writes a database's write-ahead log into it and empties it.
func checkpoint(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", dsn(path, "rw"))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

// privateTemp creates an empty file of mode 0600 beside path (a database
// holds sealed secrets and password hashes), for a rename onto path.
func privateTemp(path string) (string, error) {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+rand.Text()[:8]+".tmp")
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	return tmp, f.Close()
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
