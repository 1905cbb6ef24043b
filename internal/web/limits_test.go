package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestFormHeldToServeLimits: the web form saves through the API's checks:
// an interval under --min-interval, a max_duration over --max-duration and
// a device address the egress policy refuses come back beside their
// fields, naming the flag that would allow them.
func TestFormHeldToServeLimits(t *testing.T) {
	f := newFixture(t, false)
	b := f.loggedIn(t)
	b.get(t, "/devices")
	code, body, _ := b.post(t, "/devices", url.Values{"name": {"metadata"}, "address": {"169.254.169.254"}}, nil)
	if code != http.StatusBadRequest || !strings.Contains(body, "is a link-local address") || !strings.Contains(body, "--allow-targets") {
		t.Errorf("a link-local device: %d %s", code, errorsIn(body))
	}
	code, _, resp := b.post(t, "/devices", url.Values{"name": {"mail1"}, "address": {"127.0.0.1"}}, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("add device: %d", code)
	}
	dev := resp.Header.Get("Location")
	b.get(t, dev+"/monitors/new?type=tcp")
	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"timing.up_every": {"10ms"}, "timing.max_duration": {"5ms"}}, "shorter than the minimum interval 10s of this server (serve --min-interval)"},
		{url.Values{"timing.max_duration": {"10m"}, "timing.up_every": {"1h"}}, "longer than the longest test 5m0s this server allows (serve --max-duration)"},
	} {
		c.form.Set("name", "fast")
		c.form.Set("port", "25")
		code, body, _ := b.post(t, dev+"/monitors/new?type=tcp", c.form, nil)
		if code != http.StatusBadRequest || !strings.Contains(body, c.want) || !strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("%v: %d %s, want %q beside its field", c.form, code, errorsIn(body), c.want)
		}
	}
}
