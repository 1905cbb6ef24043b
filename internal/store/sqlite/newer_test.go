package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/store/migrations"
)

// TestRefusesNewerSchema: a database a newer mailmon migrated is refused
// with both versions and the fix, not used.
func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mailmon.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, 1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(ctx, path)
	var newer *migrations.NewerError
	if !errors.As(err, &newer) || newer.Database != 9999 || newer.Known >= 9999 {
		t.Fatalf("open of a newer database: %v", err)
	}
	for _, want := range []string{"9999", "upgrade mailmon"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error %q does not say %q", err, want)
		}
	}
}
