package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/probe"
)

// newInstantFixture is a fixture whose engine's probers do nothing but
// time a banner check's phases, and the path of /probe for its one smtp
// monitor: /probe's own work, without a test's.
func newInstantFixture(t testing.TB) (*fixture, string) {
	t.Helper()
	f := newFixture(t)
	f.api.Engine = engine.New(engine.Options{Store: f.api.Store, Vault: f.api.Vault,
		InstallationKey: keyfile.Key("api-test-installation-secret-0123"),
		Probers: func(string) (probe.Prober, bool) {
			return func(ctx context.Context, cfg *probe.Config, t *probe.Trace) error {
				for _, p := range []string{"connect", "greeting", "ehlo", "quit"} {
					t.Step(p, func() error { return nil })
				}
				return nil
			}, true
		}})
	dev := f.saveDevice(t, "instant")
	m := f.saveMonitor(t, dev, config.Monitor{Name: "banner", Type: "smtp", Port: 25, EHLO: "bench",
		Timing: config.Timing{UpEvery: config.Duration(24 * time.Hour)}})
	return f, "/probe?monitor=" + strconv.FormatInt(m, 10)
}

// saveDevice saves a device at 127.0.0.1 as the operator and tells the
// engine, as the API does: its id.
func (f *fixture) saveDevice(tb testing.TB, name string) int64 {
	tb.Helper()
	ctx := context.Background()
	d, res, err := f.api.catalog().SaveDevice(ctx, catalog.Operator, 0, catalog.Device{Name: name, Address: "127.0.0.1"})
	if err == nil {
		err = res.Tell(ctx, f.api.Engine)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return d.ID
}

// saveMonitor saves monitor set on device dev as the operator and tells
// the engine, as the API does: its id.
func (f *fixture) saveMonitor(tb testing.TB, dev int64, set config.Monitor) int64 {
	tb.Helper()
	ctx := context.Background()
	m, res, err := f.api.catalog().SaveMonitor(ctx, catalog.Operator, 0, catalog.Monitor{Device: dev, Settings: set})
	if err == nil {
		err = res.Tell(ctx, f.api.Engine)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return m.ID
}

// TestProbeHandlerAllocations: /probe's handler (the token, the
// parameters, the slot, the exposition) allocates little beyond the test
// itself, since Prometheus calls it for every check. It made 45 per
// request (5 of them the recorder's): a timer for the slot, the token's
// hash as a new string, an eager error message, a limit on a GET's empty
// body, the targets of errors.As with no error and a map of the query
// monitor=ID. 25 since; the budget leaves a little room.
func TestProbeHandlerAllocations(t *testing.T) {
	serve := instantProbe(t)
	serve() // the token checked and cached, its use written
	const budget = 26
	if n := testing.AllocsPerRun(200, serve); n > budget {
		t.Errorf("%v allocations per /probe, want at most %d", n, budget)
	}
}

// instantProbe returns a call of /probe's handler, directly (a recorder,
// no connection), on newInstantFixture's monitor, that wants success.
func instantProbe(t testing.TB) func() {
	f, path := newInstantFixture(t)
	h := f.api.Handler()
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set(ScrapeTimeoutHeader, "10")
	return func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("HTTP %d: %s", w.Code, w.Body)
		}
	}
}

// soleMonitor reads monitor=… alone as url.ParseQuery would, and leaves
// every other query to it.
func TestSoleMonitor(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want string
		ok   bool
	}{
		{"monitor=12", "12", true},
		{"monitor=mail1/Submission/587", "mail1/Submission/587", true},
		{"monitor=", "", true},
		{"monitor=mail1%2FSubmission", "", false},
		{"monitor=a+b", "", false},
		{"monitor=1&type=smtp", "", false},
		{"type=smtp&monitor=1", "", false},
		{"monitor=1&monitor=2", "", false},
		{"monitor=1;x", "", false},
		{"monitors=1", "", false},
		{"", "", false},
	} {
		got, ok := soleMonitor(c.raw)
		if got != c.want || ok != c.ok {
			t.Errorf("soleMonitor(%q) = %q, %v; want %q, %v", c.raw, got, ok, c.want, c.ok)
		}
		if q, err := url.ParseQuery(c.raw); ok && (err != nil || len(q) != 1 || len(q["monitor"]) != 1 || q.Get("monitor") != got) {
			t.Errorf("%q: ParseQuery reads %v, %v", c.raw, q, err)
		}
	}
}
