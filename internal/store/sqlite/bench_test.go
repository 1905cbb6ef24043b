package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mailmon/mailmon/internal/store/storetest"
)

// BenchmarkRecordTest stores passed tests of 1,000 monitors and reports
// the database's bytes per stored result (goal ≤ 100).
func BenchmarkRecordTest(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "bench.db")
	s, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchRecordTest(b, s, func() int64 {
		s.wdb.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
		return fileSize(path)
	})
}

func fileSize(path string) int64 {
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}
