package sqlstore

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store/storetest"
)

// BenchmarkLastResultJSON is the encoding of a status's last result that
// RecordTest does for every test, for each kind of sample result, through
// json.Marshal (as it was) and resultJSON. cpu-ns/op is the process's CPU
// time (a steadier figure than the time on a shared machine).
func BenchmarkLastResultJSON(b *testing.B) {
	at := time.Date(2026, 12, 6, 9, 47, 58, 633448904, time.UTC)
	for _, kind := range storetest.SampleKinds {
		r := storetest.SampleResult(kind, at, 7)
		for _, enc := range []struct {
			name string
			fn   func(*probe.Result) ([]byte, error)
		}{{"json.Marshal", func(r *probe.Result) ([]byte, error) { return json.Marshal(r) }}, {"resultJSON", resultJSON}} {
			b.Run(kind+"/"+enc.name, func(b *testing.B) {
				b.ReportAllocs()
				var n int
				cpu0 := storetest.CPUTime()
				for b.Loop() {
					out, err := enc.fn(r)
					if err != nil {
						b.Fatal(err)
					}
					n = len(out)
				}
				b.ReportMetric(float64((storetest.CPUTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(n), "json-B/op")
			})
		}
	}
}
