package storetest

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/mailmon/mailmon/internal/store"
)

// BenchPutMonitors writes 1,000 monitors an op in one batch, as `mailmon
// apply` does: inserted ("insert"), then each changed ("update"). It
// reports the CPU this process spent a monitor (cpu-µs/monitor: an
// embedded database's included, a database server's not) and the time
// a monitor (ns/monitor): what each write costs, the triggers a write
// fires included (board_counts', config_changes').
func BenchPutMonitors(b *testing.B, s store.Store) {
	const per = 1000
	spec := json.RawMessage(`{"port":25,"ehlo":"bench"}`)
	var ms []*store.Monitor
	for _, kind := range []string{"insert", "update"} {
		b.Run(kind, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := CPUTime()
			b.ResetTimer()
			for i := range b.N {
				err := store.Batch(ctx, s, func(c store.Config) error {
					if kind == "insert" {
						d := &store.Device{Name: fmt.Sprint("put", len(ms)), Address: "127.0.0.1"}
						if err := c.PutDevice(ctx, d); err != nil {
							return err
						}
						for j := range per {
							m := &store.Monitor{DeviceID: d.ID, Name: fmt.Sprint("m", j), Type: "smtp", Enabled: true, Spec: spec}
							if err := c.PutMonitor(ctx, m); err != nil {
								return err
							}
							ms = append(ms, m)
						}
						return nil
					}
					for j := range per {
						m := ms[(i*per+j)%len(ms)]
						m.Enabled = !m.Enabled
						if err := c.PutMonitor(ctx, m); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((CPUTime()-cpu0).Microseconds())/float64(b.N*per), "cpu-µs/monitor")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*per), "ns/monitor")
		})
	}
}
