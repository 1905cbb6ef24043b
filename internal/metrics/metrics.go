// Package metrics exposes mailmon to Prometheus: a collector over a
// snapshot of the engine, so that a deleted monitor's series disappear with
// it, on a private registry. Labels are bounded (monitor, device, type,
// phase, state, result, code, op, leg, and location on a node that has one);
// server text never becomes a label.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/wire"
)

var (
	labels    = []string{"monitor", "device", "type"}
	stateDesc = prometheus.NewDesc("mailmon_monitor_state", "1 for the monitor's current state.", append(labels, "state"), nil)
	upDesc    = prometheus.NewDesc("mailmon_monitor_up", "1 when the last test passed (up or warn), 0 when it failed.", labels, nil)
	rttDesc   = prometheus.NewDesc("mailmon_monitor_rtt_seconds", "Round-trip time of the last test.", labels, nil)
	phaseDesc = prometheus.NewDesc("mailmon_monitor_phase_seconds", "Time of each phase of the last test.", append(labels, "phase"), nil)
	delivDesc = prometheus.NewDesc("mailmon_monitor_delivery_seconds", "Delivery time of the last round trip's probe.", labels, nil)
	certDesc  = prometheus.NewDesc("mailmon_monitor_cert_expiry_timestamp_seconds", "When the server's certificate expires; leg=\"smtp\": a round trip's SMTP leg.", append(labels, "leg"), nil)
	testsDesc = prometheus.NewDesc("mailmon_monitor_tests_total", "Tests since the daemon started, by result and error code.", append(labels, "result", "code"), nil)
	lagDesc   = prometheus.NewDesc("mailmon_scheduler_lag_seconds", "Delay of recent tests behind their due time.", []string{"quantile"}, nil)
	flyDesc   = prometheus.NewDesc("mailmon_tests_in_flight", "Tests running now.", nil, nil)
	monDesc   = prometheus.NewDesc("mailmon_monitors", "Monitors scheduled.", nil, nil)
	// An alert action's deliveries from this node; alert is its name, the
	// operator's (bounded like a monitor's).
	actQueued  = prometheus.NewDesc("mailmon_alert_queued", "Notifications of the alert action waiting, under way or backing off on this node.", []string{"alert"}, nil)
	actSuccess = prometheus.NewDesc("mailmon_alert_last_success_timestamp_seconds", "When a delivery to the alert action last succeeded (absent: none since the daemon started).", []string{"alert"}, nil)
	actFailure = prometheus.NewDesc("mailmon_alert_last_failure_timestamp_seconds", "When an attempt to deliver to the alert action last failed (absent: none since the daemon started).", []string{"alert"}, nil)
	actTotal   = prometheus.NewDesc("mailmon_alert_deliveries_total", "Attempts to deliver to the alert action since the daemon started, by result (sent, failed).", []string{"alert", "result"}, nil)
	storeDesc  = prometheus.NewDesc("mailmon_store_operation_seconds", "Time of the engine's store operations (record_test: a test, its state change and notifications in one transaction).", []string{"op"}, nil)
)

// Collector collects from an engine.
type Collector struct {
	Engine *engine.Engine
}

// Describe sends the descriptors.
func (c Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{stateDesc, upDesc, rttDesc, phaseDesc, delivDesc, certDesc, testsDesc, lagDesc, flyDesc, monDesc, storeDesc, actQueued, actSuccess, actFailure, actTotal} {
		ch <- d
	}
}

// Collect sends the current values.
func (c Collector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.Engine.Snapshot() {
		// Names stored before they refused hidden characters may hold
		// one: it shows as U+FFFD, never raw on a dashboard.
		lv := []string{wire.Sanitize(m.Name), wire.Sanitize(m.Device), m.Type}
		for _, s := range state.States() {
			v := 0.0
			if s == m.State {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(stateDesc, prometheus.GaugeValue, v, append(lv, string(s))...)
		}
		for k, n := range m.Tests {
			ch <- prometheus.MustNewConstMetric(testsDesc, prometheus.CounterValue, float64(n), append(lv, string(k.Result), string(k.Code))...)
		}
		r := m.Last
		if r == nil {
			continue
		}
		up := 0.0
		if r.Status != "down" {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, up, lv...)
		ch <- prometheus.MustNewConstMetric(rttDesc, prometheus.GaugeValue, r.RTT.Seconds(), lv...)
		seen := map[string]bool{}
		for _, p := range r.Phases {
			if !seen[p.Name] { // phase names come from mailmon, never from the server
				seen[p.Name] = true
				ch <- prometheus.MustNewConstMetric(phaseDesc, prometheus.GaugeValue, p.Duration.Seconds(), append(lv, p.Name)...)
			}
		}
		if r.Delivery > 0 {
			ch <- prometheus.MustNewConstMetric(delivDesc, prometheus.GaugeValue, r.Delivery.Seconds(), lv...)
		}
		// The monitor's server (a round trip's mailbox) has leg "", which
		// Prometheus stores as no label: its series stays what it was.
		for _, c := range [...]struct {
			leg  string
			info *probe.TLSInfo
		}{{"", r.TLS}, {probe.LegSMTP, r.LegTLS(probe.LegSMTP)}} {
			if c.info != nil && !c.info.CertNotAfter.IsZero() {
				ch <- prometheus.MustNewConstMetric(certDesc, prometheus.GaugeValue, float64(c.info.CertNotAfter.Unix()), append(lv, c.leg)...)
			}
		}
	}
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
}

// Handler serves /metrics from a private registry holding the collector
// and the Go runtime's own metrics.
func Handler(e *engine.Engine, o Options) http.Handler {
	reg := prometheus.NewRegistry()
	var r prometheus.Registerer = reg
	if o.Location != "" {
		r = prometheus.WrapRegistererWith(prometheus.Labels{"location": o.Location}, reg)
	}
	r.MustRegister(Collector{Engine: e})
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
