package endpoint

import (
	"net/http"
	"testing"

	"github.com/mailmon/mailmon/internal/testutil/certs"
)

// TestHTTPClientSharesCAPool: every client of one ca: file trusts the same
// pool, read once, not a pool built per call.
func TestHTTPClientSharesCAPool(t *testing.T) {
	file := certs.NewCA(t).File(t)
	roots := func() any {
		t.Helper()
		c, err := HTTPClient(nil, file)
		if err != nil {
			t.Fatal(err)
		}
		return c.Transport.(*http.Transport).TLSClientConfig.RootCAs
	}
	if a, b := roots(), roots(); a != b {
		t.Errorf("two clients of one CA file: pools %p and %p, want one", a, b)
	}
}
