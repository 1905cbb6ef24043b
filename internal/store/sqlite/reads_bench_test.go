package sqlite

import (
	"testing"

	"github.com/mailmon/mailmon/internal/store"
)

// BenchmarkStatusReads reads statuses at the scale of the write path's
// benchmarks (100,000 monitors of the lean mix, statuses stored where
// the monitors' tests put them) as their readers do: "board" the board's
// first page (50 monitors worst first, with bars and acknowledgements:
// BoardStatuses), its pages cached (warm) or not (cold); "load" the
// engine's start before store.States (Statuses of 500 monitors a page,
// by id, through them all).
func BenchmarkStatusReads(b *testing.B) {
	s := openScale(b, false, templateKey{lean: true})
	ctx := b.Context()
	b.Run("board", func(b *testing.B) {
		ms, _, err := s.Monitors(ctx, store.MonitorFilter{Order: store.WorstFirst, Page: store.Page{Limit: 50}})
		if err != nil || len(ms) != 50 {
			b.Fatal(len(ms), err)
		}
		ids := make([]int64, len(ms))
		for i := range ms {
			ids[i] = ms[i].ID
		}
		read := func(b *testing.B) {
			sts, err := s.BoardStatuses(ctx, ids)
			if err != nil || len(sts) != len(ids) {
				b.Fatal(len(sts), err)
			}
		}
		b.Run("warm", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				read(b)
			}
		})
		// cold: a write before each read (untimed), as the daemon's
		// tests commit all the time, so that the reader finds its page
		// cache stale and reads each page again.
		b.Run("cold", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				if _, err := s.wdb.ExecContext(ctx, `UPDATE devices SET updated_ms=updated_ms+1 WHERE id=1`); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				read(b)
			}
		})
	})
	b.Run("load", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			err := store.Walk(ctx, 500, store.AllMonitors(s), store.MonitorID, func(ms []store.Monitor, _ int) error {
				ids := make([]int64, len(ms))
				for i := range ms {
					ids[i] = ms[i].ID
				}
				sts, err := s.Statuses(ctx, ids)
				n += len(sts)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			if n != scaleN() {
				b.Fatal(n)
			}
		}
	})
}
