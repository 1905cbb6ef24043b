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
			benchPaced(b, pacedRun{every: 3 * time.Millisecond, monitors: 20_000, linger: lg})
		})
	}
}

// BenchmarkRecordTestPacedScale is BenchmarkRecordTestPaced at 100,000
// monitors' pace (1,667 results a second, one every 600 µs, all of the
// template's monitors in the order the scheduler tests them) with the daemon benchmark's lean mix, for groups
// of at most 64 results (defaultMaxGroup until 2026-12-07) and 256: at
// this pace the linger, not the bound, ends a group of 256.
func BenchmarkRecordTestPacedScale(b *testing.B) {
	for _, n := range []int{64, 256} {
		b.Run(fmt.Sprint("max=", n), func(b *testing.B) {
			benchPaced(b, pacedRun{every: 600 * time.Microsecond, monitors: scaleMonitors, inOrder: true, lean: true, linger: defaultLinger, maxGroup: n})
		})
	}
}

// pacedRun is a run of benchPaced: a result every every, for monitors of
// the template in a shuffled order (inOrder: the scheduler's, benchOrder;
// lean: the lean mix, else banner and STARTTLS tests in turn), with the writer's linger and groups of at most maxGroup
// (defaultMaxGroup if 0).
type pacedRun struct {
	every    time.Duration
	monitors int
	inOrder  bool
	lean     bool
	linger   time.Duration
	maxGroup int
}

func benchPaced(b *testing.B, run pacedRun) {
	ctx := b.Context() // cancellable, as the engine's
	key := templateKey{lean: run.lean}
	s := openScale(b, true, key)
	s.linger = run.linger
	if run.maxGroup > 0 {
		s.maxGroup = run.maxGroup
	}
	order := rand.New(rand.NewPCG(1, 2)).Perm(min(run.monitors, scaleN()))
	if run.inOrder {
		order = benchOrder(false, false)
	}
	t0 := time.Now()
	b.ReportAllocs()
	tick := time.NewTicker(run.every)
	defer tick.Stop()
	var wg sync.WaitGroup
	txs0, cpu0 := s.groups.txs.Load(), storetest.CPUTime()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		// Ticks come late (or are dropped) on a busy machine: the
		// results due by now are sent together, so that the pace holds.
		if time.Since(start) < time.Duration(i)*run.every {
			<-tick.C
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, at := int64(order[i%len(order)]+1), t0.Add(time.Duration(i)*time.Millisecond)
			kind := storetest.SampleKinds[1+i%2] // banner, STARTTLS
			if run.lean {
				kind = leanKind(int(id), true)
			}
			res := storetest.SampleResult(kind, at, i)
			if err := s.RecordTest(ctx, store.Test{
				Result:   store.Result{MonitorID: id, Time: at, Status: probe.StatusUp, RTT: res.RTT},
				Status:   store.Status{MonitorID: id, Status: state.Status{State: state.Up, Since: t0, History: 7, Results: 3}, LastResult: res, LastTest: at},
				Interval: key.interval(), // the template's slots: no status moves
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
