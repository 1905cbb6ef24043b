package migrations

import (
	"io/fs"
	"slices"
	"strings"
	"testing"
)

// TestSameVersions: both dialects carry the same migration versions, so a
// database of either backend has the same schema at the same version.
func TestSameVersions(t *testing.T) {
	versions := func(fsys fs.FS, dir string) []string {
		t.Helper()
		names, err := fs.Glob(fsys, dir+"/*.sql")
		if err != nil || len(names) == 0 {
			t.Fatalf("%s: %v %v", dir, names, err)
		}
		var out []string
		for _, n := range names {
			v, _, ok := strings.Cut(strings.TrimPrefix(n, dir+"/"), "_")
			if !ok {
				t.Errorf("%s: no version prefix", n)
			}
			out = append(out, v)
		}
		return out
	}
	s, p := versions(SQLite, "sqlite"), versions(Postgres, "postgres")
	if !slices.Equal(s, p) {
		t.Errorf("sqlite versions %v, postgres versions %v", s, p)
	}
}
