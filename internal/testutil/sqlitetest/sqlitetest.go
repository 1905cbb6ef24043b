// Package sqlitetest opens the SQLite stores of tests.
package sqlitetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mailmon/mailmon/internal/store/sqlite"
)

// Open is a store on a fresh SQLite database in t's temporary directory,
// closed when t ends.
func Open(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "mailmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
