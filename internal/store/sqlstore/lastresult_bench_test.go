package sqlstore

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/store/storetest"
)

// BenchmarkLastResultJSON is the encoding of a status's last result that
// RecordTest does for every test, for each kind of sample result.
func BenchmarkLastResultJSON(b *testing.B) {
	at := time.Date(2026, 12, 6, 9, 47, 58, 633448904, time.UTC)
	for _, kind := range storetest.SampleKinds {
		r := storetest.SampleResult(kind, at, 7)
		b.Run(kind+"/json.Marshal", func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				out, err := json.Marshal(r)
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.ReportMetric(float64(n), "json-B/op")
		})
		b.Run(kind+"/resultJSON", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := resultJSON(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
