package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/bench/farm"
	"github.com/mailmon/mailmon/internal/bench/procstat"
	"github.com/mailmon/mailmon/internal/bench/rawcheck"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/metrics"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/testutil/certs"
)

// BenchmarkProbeCost is /probe's own cost per check, in process, where
// the load of other work on the machine does not decide the figure. The
// same SMTP check of a stored monitor, as the peers benchmark drives it
// (/probe?monitor=ID, the certificate verified against the monitor's CA
// file), three ways against one loopback responder:
//
//   - raw: internal/bench/rawcheck, a socket and crypto/tls;
//   - run: probe.Run with the engine's config of the monitor, the test
//     alone;
//   - http: GET /probe?monitor=ID through a loopback HTTP server and a
//     kept-alive net/http client, as Prometheus scrapes;
//
// and two rows without a test: floor, the same GETs answered with a fixed
// exposition by a handler that does nothing else (net/http's own cost,
// server and client), and handler, /probe with a prober that does nothing
// (newInstantFixture). cpu-µs/op is the process's CPU per check, the
// responder's and the client's included, alike in every row: http − run
// is what /probe adds to a test, handler − floor the part of it that is
// mailmon's (the token, the parameters, the slot, the exposition).
func BenchmarkProbeCost(b *testing.B) {
	f := newFixture(b)
	ca := certs.NewCA(b)
	caFile := ca.File(b)
	plain, starttls := farm.StartSMTP(b, nil), farm.StartSMTP(b, ca)

	tr := &http.Transport{MaxIdleConnsPerHost: 8, IdleConnTimeout: time.Minute, DisableCompression: true}
	b.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	// get GETs url with token as Prometheus would, and wants success.
	get := func(b *testing.B, url, token string) func() error {
		header := http.Header{"Authorization": {"Bearer " + token}, ScrapeTimeoutHeader: {"10"},
			"Accept": {"text/plain;version=0.0.4;q=0.5,*/*;q=0.1"}}
		var body bytes.Buffer
		return func() error {
			req, err := http.NewRequest("GET", url, nil)
			if err != nil {
				return err
			}
			req.Header = header
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			body.Reset()
			_, err = body.ReadFrom(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK || metricValue(body.Bytes(), "probe_success") != 1 {
				b.Fatalf("HTTP %d:\n%s", resp.StatusCode, body.Bytes())
			}
			return nil
		}
	}

	var canned bytes.Buffer
	metrics.WriteProbe(&canned, &probe.Result{Status: probe.StatusUp, RTT: time.Millisecond,
		Phases: []probe.Phase{{Name: "connect"}, {Name: "greeting"}, {Name: "ehlo"}, {Name: "quit"}}})
	floor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", metrics.ProbeContentType)
		w.Write(canned.Bytes())
	}))
	b.Cleanup(floor.Close)
	b.Run("floor", func(b *testing.B) { procstat.PerOp(b, get(b, floor.URL+"/probe", f.token)) })
	instant, path := newInstantFixture(b)
	b.Run("handler", func(b *testing.B) { procstat.PerOp(b, get(b, instant.srv.URL+path, instant.token)) })

	ctx := context.Background()
	dev := f.saveDevice(b, "bench")
	for _, c := range []struct {
		name string
		s    *farm.Server
		mode string
	}{{"banner", plain, "none"}, {"starttls", starttls, "starttls"}} {
		set := config.Monitor{Name: c.name, Type: "smtp", Port: c.s.Port(), TLS: c.mode, EHLO: "bench",
			Timing: config.Timing{MaxDuration: config.Duration(5 * time.Second), UpEvery: config.Duration(24 * time.Hour)}}
		var rawTLS *tls.Config
		if c.mode != "none" {
			set.CA, set.ServerName = caFile, "127.0.0.1"
			rawTLS = &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"}
		}
		m := f.saveMonitor(b, dev, set)
		b.Run(c.name+"/raw", func(b *testing.B) {
			procstat.PerOp(b, func() error { return rawcheck.Run("smtp", c.mode, c.s.Addr(), rawTLS) })
		})
		b.Run(c.name+"/run", func(b *testing.B) {
			cfg, err := f.api.Engine.MonitorConfig(m)
			if err != nil {
				b.Fatal(err)
			}
			k, _ := kinds.Lookup("smtp")
			k.Probe, _ = f.api.Engine.Prober("smtp")
			procstat.PerOp(b, func() error {
				if r := probe.Run(ctx, k, cfg); r.Status != probe.StatusUp {
					b.Fatalf("%s: %+v", r.Status, r.Error)
				}
				return nil
			})
		})
		b.Run(c.name+"/http", func(b *testing.B) {
			procstat.PerOp(b, get(b, f.srv.URL+"/probe?monitor="+strconv.FormatInt(m, 10), f.token))
		})
	}
}

// metricValue is the value of an unlabelled series in an exposition, or -1.
func metricValue(body []byte, name string) float64 {
	for l := range bytes.Lines(body) {
		if v, ok := bytes.CutPrefix(bytes.TrimSuffix(l, []byte("\n")), []byte(name+" ")); ok {
			if f, err := strconv.ParseFloat(string(v), 64); err == nil {
				return f
			}
		}
	}
	return -1
}

// BenchmarkProbeHandler is /probe's handler alone (newInstantFixture: a
// prober that does nothing) called directly, without a connection: one
// goroutine and no system call, steadier than BenchmarkProbeCost's rows
// on a busy machine.
func BenchmarkProbeHandler(b *testing.B) {
	serve := instantProbe(b)
	procstat.PerOp(b, func() error { serve(); return nil })
}
