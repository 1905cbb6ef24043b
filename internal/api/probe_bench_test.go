package api

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mailmon/mailmon/internal/bench/farm"
)

// BenchmarkProbeBanner is the server's side of one /probe of an SMTP
// banner: authentication, parameters, the probe and the exposition,
// without the HTTP client. Compare with internal/bench's
// BenchmarkBannerMailmon, the probe alone.
func BenchmarkProbeBanner(b *testing.B) {
	f := newFixture(b)
	s, err := farm.Start(farm.SMTP, farm.NoTLS, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	h := f.api.Handler()
	url := "/probe?type=smtp&target=" + s.Addr()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+f.token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("HTTP %d: %s", w.Code, w.Body)
		}
	}
}
