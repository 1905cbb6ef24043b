// Package metrics exposes mailmon to Prometheus: a collector over a
// snapshot of the engine, so that a deleted monitor's series disappear with
// it, on a private registry. Labels are bounded (monitor, device, type,
// phase, state, result, code, op, leg, and location on a node that has one);
// server text never becomes a label.
package metrics

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"

	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/wire"
)

var (
	lagDesc = prometheus.NewDesc("mailmon_scheduler_lag_seconds", "Delay of recent tests behind their due time.", []string{"quantile"}, nil)
	flyDesc = prometheus.NewDesc("mailmon_tests_in_flight", "Tests running now.", nil, nil)
	monDesc = prometheus.NewDesc("mailmon_monitors", "Monitors scheduled.", nil, nil)
	// An alert action's deliveries from this node; alert is its name, the
	// operator's (bounded like a monitor's).
	actQueued  = prometheus.NewDesc("mailmon_alert_queued", "Notifications of the alert action waiting, under way or backing off on this node.", []string{"alert"}, nil)
	actSuccess = prometheus.NewDesc("mailmon_alert_last_success_timestamp_seconds", "When a delivery to the alert action last succeeded (absent: none since the daemon started).", []string{"alert"}, nil)
	actFailure = prometheus.NewDesc("mailmon_alert_last_failure_timestamp_seconds", "When an attempt to deliver to the alert action last failed (absent: none since the daemon started).", []string{"alert"}, nil)
	actTotal   = prometheus.NewDesc("mailmon_alert_deliveries_total", "Attempts to deliver to the alert action since the daemon started, by result (sent, failed).", []string{"alert", "result"}, nil)
	storeDesc  = prometheus.NewDesc("mailmon_store_operation_seconds", "Time of the engine's store operations (record_test: a test, its state change and notifications in one transaction).", []string{"op"}, nil)
)

// Collector collects from an engine what is not per monitor (those
// series are written by writeMonitors, monitors.go).
type Collector struct {
	Engine *engine.Engine
}

// Describe sends the descriptors.
func (c Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{lagDesc, flyDesc, monDesc, storeDesc, actQueued, actSuccess, actFailure, actTotal} {
		ch <- d
	}
}

// Collect sends the current values.
func (c Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.Engine.Scheduler().Stats()
	ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, st.LagP50.Seconds(), "0.5")
	ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, st.LagP99.Seconds(), "0.99")
	ch <- prometheus.MustNewConstMetric(flyDesc, prometheus.GaugeValue, float64(st.InFlight))
	ch <- prometheus.MustNewConstMetric(monDesc, prometheus.GaugeValue, float64(st.Monitors))
	for op, l := range c.Engine.StoreLatencies() {
		ch <- prometheus.MustNewConstHistogram(storeDesc, l.Count, l.Sum, l.Buckets, op)
	}
	for _, h := range c.Engine.ActionHealth() {
		name := wire.Sanitize(h.Name)
		if name == "" {
			continue // not delivered to yet: its name is not known here
		}
		ch <- prometheus.MustNewConstMetric(actQueued, prometheus.GaugeValue, float64(h.Queued), name)
		ch <- prometheus.MustNewConstMetric(actTotal, prometheus.CounterValue, float64(h.Sent), name, "sent")
		ch <- prometheus.MustNewConstMetric(actTotal, prometheus.CounterValue, float64(h.Failed), name, "failed")
		if !h.LastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(actSuccess, prometheus.GaugeValue, float64(h.LastSuccess.UnixMilli())/1e3, name)
		}
		if !h.LastErrorAt.IsZero() {
			ch <- prometheus.MustNewConstMetric(actFailure, prometheus.GaugeValue, float64(h.LastErrorAt.UnixMilli())/1e3, name)
		}
	}
}

// Options configure the /metrics handler.
type Options struct {
	// Location is this node's location label. When set, every mailmon_
	// series carries location="…", so that the series of several nodes
	// sharing one database stay apart. Empty (one node): no such label.
	Location string
	// RenderAhead answers a scraper that scrapes at a steady interval
	// (Prometheus) from a gzipped exposition rendered shortly before its
	// scrape is due, a few seconds old at most (ahead.go); anyone else, and
	// a client that does not take gzip, gets a fresh one.
	RenderAhead bool
}

// Handler serves /metrics in the text format: every monitor's series
// (monitors.go), then those of the collector and the Go runtime's, from a
// private registry; gzipped when the client accepts it, as promhttp does.
func Handler(e *engine.Engine, o Options) http.Handler {
	reg := prometheus.NewRegistry()
	var r prometheus.Registerer = reg
	if o.Location != "" {
		r = prometheus.WrapRegistererWith(prometheus.Labels{"location": o.Location}, reg)
	}
	r.MustRegister(Collector{Engine: e})
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return newHandler(e, reg, o, realClock{})
}

func newHandler(e *engine.Engine, reg *prometheus.Registry, o Options, c clock) *handler {
	snapshot := func(b *engine.SnapshotBuffer) []engine.MonitorSnapshot { return e.SnapshotTo(b, nil) }
	h := &handler{snapshot: snapshot, reg: reg, x: newExpositor(o.Location), rendered: renderedDesc(o.Location), clock: c}
	if o.RenderAhead {
		h.ahead = newAhead(h.clock, func(w io.Writer, at time.Time) error { return h.render(w, true, at) })
	}
	return h
}

// handler serves /metrics.
type handler struct {
	// snapshot takes the engine's snapshot into a buffer (a built one in
	// benchmarks)
	snapshot func(*engine.SnapshotBuffer) []engine.MonitorSnapshot
	// snapMu holds snap, the snapshot's memory kept between renders: at
	// 100,000 monitors ~15 MB a render otherwise allocated, zeroed and
	// left to the collector. A render beside another takes its own.
	snapMu   sync.Mutex
	snap     engine.SnapshotBuffer
	reg      *prometheus.Registry
	x        *expositor
	rendered *prometheus.Desc
	clock    clock
	ahead    *ahead // nil: every scrape renders
}

func (h *handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	gz := gzipAccepted(req)
	w.Header().Set("Content-Type", string(textFormat))
	if !gz || h.ahead == nil {
		// streamed: a plain exposition at 100,000 monitors is 120 MB
		if err := h.render(&headersFirst{w: w, gz: gz}, gz, h.clock.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
		return
	}
	r := h.ahead.answer(scraperKey(req), req.Header.Get("X-Prometheus-Scrape-Timeout-Seconds") != "")
	if r.err != nil {
		http.Error(w, r.err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Encoding", "gzip")
	w.Header().Set("Content-Length", strconv.Itoa(len(r.body)))
	w.Write(r.body)
}

// headersFirst sets Content-Encoding before the first byte of a gzipped
// body, so that an error before it can still answer 500 in plain text.
type headersFirst struct {
	w     http.ResponseWriter
	gz    bool
	began bool
}

func (h *headersFirst) Write(p []byte) (int, error) {
	if !h.began {
		h.began = true
		if h.gz {
			h.w.Header().Set("Content-Encoding", "gzip")
		}
	}
	return h.w.Write(p)
}

// scraperKey tells scrapers apart: its address (without the port: a
// scraper may open a new connection for a scrape) and User-Agent.
func scraperKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ua := r.Header.Get("User-Agent")
	return host + "\x00" + ua[:min(len(ua), 256)]
}

// render writes the exposition, gzipped if gz, with its values taken at
// at (mailmon_metrics_rendered_timestamp_seconds).
func (h *handler) render(w io.Writer, gz bool, at time.Time) error {
	mfs, err := h.reg.Gather()
	if err != nil {
		return fmt.Errorf("gathering metrics: %w", err)
	}
	var m dto.Metric
	if err := prometheus.MustNewConstMetric(h.rendered, prometheus.GaugeValue, float64(at.UnixMilli())/1e3).Write(&m); err != nil {
		return err
	}
	mf := &dto.MetricFamily{Name: proto.String(renderedName), Help: proto.String(renderedHelp), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{&m}}
	i, _ := slices.BinarySearchFunc(mfs, renderedName, func(f *dto.MetricFamily, name string) int { return strings.Compare(f.GetName(), name) })
	buf := new(engine.SnapshotBuffer)
	if h.snapMu.TryLock() {
		defer h.snapMu.Unlock()
		buf = &h.snap
	}
	h.x.write(w, gz, h.snapshot(buf), slices.Insert(mfs, i, mf))
	return nil
}

const (
	renderedName = "mailmon_metrics_rendered_timestamp_seconds"
	renderedHelp = "When the values of this exposition were taken; with render-ahead up to a few seconds before the scrape."
)

// renderedDesc is mailmon_metrics_rendered_timestamp_seconds' on a node at
// location.
func renderedDesc(location string) *prometheus.Desc {
	var l prometheus.Labels
	if location != "" {
		l = prometheus.Labels{"location": location}
	}
	return prometheus.NewDesc(renderedName, renderedHelp, nil, l)
}

// textFormat is the exposition's format: always text/plain 0.0.4
// (Prometheus falls back to it from protobuf).
var textFormat = expfmt.NewFormat(expfmt.TypeTextPlain)

// expositor writes the whole exposition of a scrape.
type expositor struct {
	layouts *layouts
	zips    sync.Pool // *gzip.Writer
}

func newExpositor(location string) *expositor {
	// BestSpeed: at 100,000 monitors (116 MB of text) the default level
	// took 894 ms a scrape on a 2-core machine, BestSpeed 227 ms (13.6:1
	// instead of 20.5:1: 8.5 MB instead of 5.6). klauspost/compress's
	// gzip, once the text cost 0.7 µs a monitor, deflates it with 1.0 µs
	// of CPU a monitor where compress/gzip took 1.6 (BenchmarkScrapeLarge),
	// for 1.5% more bytes.
	return &expositor{layouts: newLayouts(location), zips: sync.Pool{New: func() any {
		z, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
		return z
	}}}
}

// write writes every monitor's series (snap, which it changes), then the
// registry's (mfs), to w, gzipped if gz; it stops early when w fails (the
// client went away).
func (x *expositor) write(w io.Writer, gz bool, snap []engine.MonitorSnapshot, mfs []*dto.MetricFamily) {
	out := w
	if gz {
		z := x.zips.Get().(*gzip.Writer)
		z.Reset(w)
		defer func() {
			z.Close()
			z.Reset(nil)
			x.zips.Put(z)
		}()
		out = z
	}
	ex := &exposition{w: out, buf: make([]byte, 0, flushAt+4<<10)}
	writeMonitors(ex, snap, x.layouts)
	ex.flush()
	if ex.err != nil {
		return
	}
	bw := bufio.NewWriterSize(out, 16<<10)
	defer bw.Flush()
	enc := expfmt.NewEncoder(bw, textFormat)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return
		}
	}
}

// gzipAccepted says whether the request accepts a gzipped body.
func gzipAccepted(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		if enc, _, _ := strings.Cut(strings.TrimSpace(part), ";"); enc == "gzip" {
			return true
		}
	}
	return false
}
