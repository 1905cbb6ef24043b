package postgres

import (
	"context"
	"testing"

	"github.com/mailmon/mailmon/internal/store/storetest"
	"github.com/mailmon/mailmon/internal/testutil/realpg"
)

// BenchmarkRecordTest stores passed tests of 1,000 monitors, one after the
// other, as the SQLite store's benchmark does; cpu-µs/op is the store's
// own cost, PostgreSQL's excluded.
func BenchmarkRecordTest(b *testing.B) {
	s, err := Open(context.Background(), realpg.NewDB(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchRecordTest(b, s, nil)
}

// BenchmarkPutMonitors writes monitors 1,000 a batch, as apply does
// (storetest.BenchPutMonitors); ns/monitor includes PostgreSQL's work.
func BenchmarkPutMonitors(b *testing.B) {
	s, err := Open(context.Background(), realpg.NewDB(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchPutMonitors(b, s)
}
