package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
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
	d := &store.Device{Name: "d", Address: "127.0.0.1"}
	s.PutDevice(ctx, d)
	const monitors = 1000
	for i := 0; i < monitors; i++ {
		s.PutMonitor(ctx, &store.Monitor{DeviceID: d.ID, Name: "m" + string(rune('a'+i%26)) + time.Duration(i).String(), Type: "smtp", Enabled: true})
	}
	s.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	base := fileSize(path)
	t0 := time.Now().Add(-7 * 24 * time.Hour)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := int64(i%monitors + 1)
		at := t0.Add(time.Duration(i) * 60 * time.Millisecond)
		res := &probe.Result{Type: "smtp", Status: probe.StatusUp, RTT: 3 * time.Millisecond}
		if err := s.RecordTest(ctx, store.Test{
			Result: store.Result{MonitorID: id, Time: at, Status: probe.StatusUp, RTT: time.Duration(2000+i%5000) * time.Microsecond},
			Status: store.Status{MonitorID: id, Status: state.Status{State: state.Up}, LastResult: res, LastTest: at},
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	s.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	if b.N >= 10000 {
		b.ReportMetric(float64(fileSize(path)-base)/float64(b.N), "bytes/result")
	}
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
