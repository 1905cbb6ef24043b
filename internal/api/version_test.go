package api

import (
	"net/http"
	"testing"

	"github.com/mailmon/mailmon/internal/version"
)

// /healthz says which mailmon answers, without a token, so that a load
// balancer or an upgrade script can see the version in service.
func TestHealthzShowsTheVersion(t *testing.T) {
	f := newFixture(t)
	code, body := f.do(t, "GET", "/healthz", nil, "")
	if code != http.StatusOK || body["status"] != "ok" || body["version"] != version.String() {
		t.Errorf("healthz: %d %v, want ok and version %q", code, body, version.String())
	}
}
