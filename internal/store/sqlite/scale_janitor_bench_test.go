package sqlite

import (
	"testing"
	"time"

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
