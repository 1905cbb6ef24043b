package storetest

import (
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// BenchRecordTest stores passed tests of 1,000 monitors, one after the
// other, each kind of SampleResult as the status's last result in a
// sub-benchmark, and reports the CPU time this process spent on each
// (cpu-µs/op: the store's own cost, without a database server's) and the
// last result's JSON (last-B/op). size, when not nil, returns the
// database's size on disk once its writes are settled: the bytes per
// stored result are reported too (goal ≤ 100), from statuses that already
// hold a last result of the kind (a monitor's ring of recent results,
// monitor_status.recent, still grows 10 bytes a test for its first
// store.RecentSize tests: the first kinds' figures include some of it).
func BenchRecordTest(b *testing.B, s store.Store, size func() int64) {
	d := &store.Device{Name: "d", Address: "127.0.0.1"}
	if err := s.PutDevice(ctx, d); err != nil {
		b.Fatal(err)
	}
	const monitors = 1000
	ids := make([]int64, monitors)
	for i := range ids {
		m := &store.Monitor{DeviceID: d.ID, Name: fmt.Sprint("m", i), Type: "smtp", Enabled: true}
		if err := s.PutMonitor(ctx, m); err != nil {
			b.Fatal(err)
		}
		ids[i] = m.ID
	}
	t0 := time.Now().Add(-7 * 24 * time.Hour)
	n := 0 // tests stored so far: no two at the same time
	for _, kind := range SampleKinds {
		b.Run(kind, func(b *testing.B) {
			results := make([]*probe.Result, monitors) // made before: the store's allocations alone are counted
			for i := range results {
				results[i] = SampleResult(kind, t0, i)
			}
			last, err := json.Marshal(results[0])
			if err != nil {
				b.Fatal(err)
			}
			record := func(i int) {
				id := ids[i%monitors]
				at := t0.Add(time.Duration(n) * 60 * time.Millisecond)
				n++
				res := results[i%monitors]
				res.Started = at
				if err := s.RecordTest(ctx, store.Test{
					Result: store.Result{MonitorID: id, Time: at, Status: probe.StatusUp, RTT: res.RTT},
					Status: store.Status{MonitorID: id, Status: state.Status{State: state.Up}, LastResult: res, LastTest: at},
				}); err != nil {
					b.Fatal(err)
				}
			}
			measure := size != nil && b.N >= 10000
			var base int64
			if measure {
				// Every status holds this kind's last result first: its
				// growth is not the results'.
				for i := range monitors {
					record(i)
				}
				base = size()
			}
			b.ReportAllocs()
			cpu0 := CPUTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				record(i)
			}
			b.StopTimer()
			b.ReportMetric(float64((CPUTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
			b.ReportMetric(float64(len(last)), "last-B/op")
			if measure {
				b.ReportMetric(float64(size()-base)/float64(b.N), "bytes/result")
			}
		})
	}
}

// CPUTime is the CPU time this process has used.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
