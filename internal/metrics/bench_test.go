package metrics

import (
	"io"
	"net/http/httptest"
	"testing"
)

// BenchmarkScrape scrapes /metrics of 2,000 smtp monitors, each tested
// once (four phases); B/op divided by 2,000 is what a scrape allocates per
// monitor (100,000 monitors: 50 times the figure).
func BenchmarkScrape(b *testing.B) {
	const n = 2000
	h := Handler(testedEngine(b, n), Options{})
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		io.Copy(io.Discard, rec.Body)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/n, "µs/monitor")
}
