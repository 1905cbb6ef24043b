package sqlite

import (
	"context"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/storetest"
)

// BenchmarkJanitorPassScale: a pass of the janitor's statements at
// 100,000 lean monitors with 60 results each (an hour, spread over two
// hour buckets): "old" as Tidy made every 5 minutes before (three hours,
// three days, both prunes); "hourly" as it makes once an hour now, the
// others rolling and pruning nothing (an hour's results, 60 a monitor,
// rolled once, both prunes); "prune" both prunes alone (a seek a monitor
// each); "catch-up-7d" the first pass of a node that
// was down a week (the hours of the 7 days raw results are kept). A
// store-level pass, so that an older build runs it too (interleaved); the
// old statements would scan the table for each of catch-up-7d's 168 hours.
func BenchmarkJanitorPassScale(b *testing.B) {
	for _, c := range []struct {
		name string
		pass func(b *testing.B, s *Store, now time.Time)
	}{
		{"old", func(b *testing.B, s *Store, now time.Time) {
			janitorStep(b, s.RollUp(b.Context(), store.Hour, now.Add(-2*time.Hour), now.Add(time.Hour)))
			janitorStep(b, s.RollUp(b.Context(), store.Day, now.Add(-48*time.Hour), now.Add(24*time.Hour)))
			janitorPrune(b, s, now)
		}},
		{"hourly", func(b *testing.B, s *Store, now time.Time) {
			janitorStep(b, s.RollUp(b.Context(), store.Hour, now.Add(-2*time.Hour), now.Add(time.Hour)))
			janitorPrune(b, s, now)
		}},
		{"prune", func(b *testing.B, s *Store, now time.Time) {
			janitorPrune(b, s, now)
		}},
		{"catch-up-7d", func(b *testing.B, s *Store, now time.Time) {
			janitorStep(b, s.RollUp(b.Context(), store.Hour, now.Add(-7*24*time.Hour), now.Add(time.Hour)))
		}},
	} {
		b.Run("lean-history60-"+c.name, func(b *testing.B) {
			s := openScale(b, false, templateKey{lean: true, history: 60})
			now := time.Now()
			cpu0 := storetest.CPUTime()
			for b.Loop() {
				c.pass(b, s, now)
			}
			b.ReportMetric(float64((storetest.CPUTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

func janitorPrune(b *testing.B, s *Store, now time.Time) {
	_, err := s.Prune(b.Context(), now.Add(-7*24*time.Hour))
	janitorStep(b, err)
	_, err = s.PruneRollups(b.Context(), store.Hour, now.Add(-90*24*time.Hour))
	janitorStep(b, err)
}

func janitorStep(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkJanitorWriterScale: how long each of the janitor's writes
// holds SQLite's one writer at 100,000 lean monitors, and what that costs
// the tests' results meanwhile: "prune" the hourly prune of raw results
// (an hour's, 60 a monitor: 6,000,000 rows), "prune-rollups" that of the
// hourly roll-ups (the oldest hour's: 100,000), "day" the daily roll-up
// (24 hourly roll-ups a monitor read, a day's written), "idle" none (2 s:
// the recorders' own waits). While it runs,
// recorders store results as the daemon does at 100,000 monitors
// (1,667 a second, 32 callers); it reports the statement's wall time
// (ms/op), the recorders' wait for their commit (wait-p99-ms,
// wait-max-ms) and the WAL's largest size (wal-max-MiB). One op a fresh
// copy of the template: run it with -benchtime 1x.
func BenchmarkJanitorWriterScale(b *testing.B) {
	for _, c := range []struct {
		name string
		op   func(ctx context.Context, s *Store, day time.Time) error
	}{
		{"idle", func(ctx context.Context, s *Store, day time.Time) error {
			time.Sleep(2 * time.Second)
			return nil
		}},
		{"prune", func(ctx context.Context, s *Store, day time.Time) error {
			_, err := s.Prune(ctx, time.Now())
			return err
		}},
		{"prune-rollups", func(ctx context.Context, s *Store, day time.Time) error {
			_, err := s.PruneRollups(ctx, store.Hour, day.Add(time.Hour))
			return err
		}},
		{"day", func(ctx context.Context, s *Store, day time.Time) error {
			return s.RollUp(ctx, store.Day, day, day.AddDate(0, 0, 1))
		}},
	} {
		b.Run("lean-history60-"+c.name, func(b *testing.B) {
			key := templateKey{lean: true, history: 60, hours: 24}
			var waits []time.Duration
			var walMax int64
			var took time.Duration
			for range b.N {
				b.StopTimer()
				s := openScale(b, false, key)
				ctx := b.Context()
				var day time.Time
				var first int64
				if err := s.rdb.QueryRowContext(ctx, `SELECT min(start_ms) FROM rollups`).Scan(&first); err != nil {
					b.Fatal(err)
				}
				day = time.UnixMilli(first).UTC()
				wal, stop := recordMeanwhile(b, s)
				time.Sleep(time.Second) // the recorders at pace
				b.StartTimer()
				t0 := time.Now()
				janitorStep(b, c.op(ctx, s, day))
				took += time.Since(t0)
				b.StopTimer()
				time.Sleep(time.Second) // what waited behind it
				waits = append(waits, stop(t0)...)
				walMax = max(walMax, *wal)
			}
			slices.Sort(waits)
			if len(waits) > 0 {
				b.ReportMetric(float64(waits[len(waits)*99/100].Microseconds())/1000, "wait-p99-ms")
				b.ReportMetric(float64(waits[len(waits)-1].Microseconds())/1000, "wait-max-ms")
			}
			b.ReportMetric(float64(walMax)/(1<<20), "wal-max-MiB")
			b.ReportMetric(float64(took.Microseconds())/1000/float64(b.N), "wall-ms/op")
		})
	}
}

// recordMeanwhile records results as the daemon does at 100,000 monitors
// until stop, which returns how long each call that ended after since
// waited; wal is the largest size the WAL file reached, polled.
func recordMeanwhile(b *testing.B, s *Store) (wal *int64, stop func(since time.Time) []time.Duration) {
	var path string
	if err := s.rdb.QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path); err != nil {
		b.Fatal(err)
	}
	const callers, perSecond = 32, 1667
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	type call struct {
		end  time.Time
		took time.Duration
	}
	var calls []call
	var wg sync.WaitGroup
	var n atomic.Int64
	wal = new(int64)
	base := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(time.Second * callers / perSecond)
			defer tick.Stop()
			for ctx.Err() == nil {
				i := n.Add(1)
				id := int64(1 + (int(i)*7919+c)%scaleN())
				at := base.Add(time.Duration(i) * time.Millisecond)
				res := storetest.SampleResult(leanKind(int(id), true), at, int(id))
				t0 := time.Now()
				err := s.RecordTest(context.Background(), store.Test{
					Result:   store.Result{MonitorID: id, Time: at, Status: probe.StatusUp, RTT: res.RTT},
					Status:   store.Status{MonitorID: id, Status: state.Status{State: state.Up, Since: base, History: 7, Results: 3}, LastResult: res, LastTest: at},
					Interval: time.Minute,
				})
				end := time.Now()
				if err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				calls = append(calls, call{end, end.Sub(t0)})
				mu.Unlock()
				select {
				case <-ctx.Done():
				case <-tick.C:
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if fi, err := os.Stat(path + "-wal"); err == nil {
				*wal = max(*wal, fi.Size())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return wal, func(since time.Time) []time.Duration {
		cancel()
		wg.Wait()
		var d []time.Duration
		for _, c := range calls {
			if c.end.After(since) {
				d = append(d, c.took)
			}
		}
		return d
	}
}
