package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
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

// BenchmarkRecordTestPaced stores results as the daemon does at 20,000
// monitors: one every 3 ms (333 a second), each from its own test's
// goroutine, half of them STARTTLS tests, with the group writer's linger
// and without; it reports the process's CPU time (the results' making
// included, a few µs) and the transactions per result.
func BenchmarkRecordTestPaced(b *testing.B) {
	for _, lg := range []time.Duration{0, defaultLinger} {
		b.Run(fmt.Sprint("linger=", lg), func(b *testing.B) {
			ctx := context.Background()
			s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			s.linger = lg
			ids := monitors(b, s, 1000)
			b.ReportAllocs()
			tick := time.NewTicker(3 * time.Millisecond)
			defer tick.Stop()
			var wg sync.WaitGroup
			txs0, cpu0 := s.groups.txs.Load(), storetest.CPUTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				<-tick.C
				wg.Add(1)
				go func() {
					defer wg.Done()
					id, at := ids[i%len(ids)], time.Now()
					res := storetest.SampleResult(storetest.SampleKinds[1+i%2], at, i) // banner, STARTTLS
					if err := s.RecordTest(ctx, store.Test{
						Result: store.Result{MonitorID: id, Time: at, Status: probe.StatusUp, RTT: 3 * time.Millisecond},
						Status: store.Status{MonitorID: id, Status: state.Status{State: state.Up}, LastResult: res, LastTest: at},
					}); err != nil {
						b.Error(err)
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64((storetest.CPUTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
			b.ReportMetric(float64(s.groups.txs.Load()-txs0)/float64(b.N), "tx/op")
		})
	}
}
