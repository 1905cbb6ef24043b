package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mailmon/mailmon/internal/store"
)

// TestFilesArePrivate: a new database and its -wal and -shm files are
// readable by their owner only, whatever the umask lets through; an
// existing file keeps its mode.
func TestFilesArePrivate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mailmon.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.PutDevice(ctx, &store.Device{Name: "d", Address: "d"}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err) // the WAL files exist while the store is open
		}
		if m := fi.Mode().Perm(); m&0o077 != 0 {
			t.Errorf("%s: mode %v, want no access for group and others", filepath.Base(f), m)
		}
	}

	shared := filepath.Join(t.TempDir(), "shared.db")
	if err := os.WriteFile(shared, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	os.Chmod(shared, 0o640)
	s2, err := Open(ctx, shared)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if fi, _ := os.Stat(shared); fi.Mode().Perm() != 0o640 {
		t.Errorf("an existing database's mode changed to %v", fi.Mode().Perm())
	}
}
