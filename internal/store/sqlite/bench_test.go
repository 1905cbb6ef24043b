package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
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
// monitors: one every 3 ms (333 a second) for 20,000 of the scale
// template's monitors in a shuffled order, each from its own test's
// goroutine, half of them STARTTLS tests, with the group writer's linger
// (20 ms, as it was, and defaultLinger) and without. It reports the
// process's CPU time (the results' making included, a few µs), the
// transactions and the WAL pages per result.
func BenchmarkRecordTestPaced(b *testing.B) {
	for _, lg := range []time.Duration{0, 20 * time.Millisecond, defaultLinger} {
		b.Run(fmt.Sprint("linger=", lg), func(b *testing.B) {
			ctx := b.Context() // cancellable, as the engine's
			s := openScale(b, true, templateKey{})
			s.linger = lg
			order := rand.New(rand.NewPCG(1, 2)).Perm(min(20_000, scaleN()))
			t0 := time.Now()
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
					id, at := int64(order[i%len(order)]+1), t0.Add(time.Duration(i)*time.Millisecond)
					res := storetest.SampleResult(storetest.SampleKinds[1+i%2], at, i) // banner, STARTTLS
					if err := s.RecordTest(ctx, store.Test{
						Result:   store.Result{MonitorID: id, Time: at, Status: probe.StatusUp, RTT: res.RTT},
						Status:   store.Status{MonitorID: id, Status: state.Status{State: state.Up, Since: t0, History: 7, Results: 3}, LastResult: res, LastTest: at},
						Interval: templateKey{}.interval(), // the template's slots: no status moves
					}); err != nil {
						b.Error(err)
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			cpu, txs := storetest.CPUTime()-cpu0, s.groups.txs.Load()-txs0
			frames, err := walFrames(ctx, s.wdb)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
			b.ReportMetric(float64(txs)/float64(b.N), "tx/op")
			b.ReportMetric(float64(frames)/float64(b.N), "pages/op")
		})
	}
}

// BenchmarkPutMonitors writes monitors 1,000 a batch, as apply does
// (storetest.BenchPutMonitors).
func BenchmarkPutMonitors(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "put.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchPutMonitors(b, s)
}
