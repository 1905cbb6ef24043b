package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailmon/mailmon/internal/probe"
)

// The series of /probe, named as blackbox_exporter names them where it has
// the same thing (probe_success, probe_duration_seconds,
// probe_tls_version_info, probe_ssl_earliest_cert_expiry), so that
// dashboards and rules written for it work.
var (
	pSuccessDesc  = prometheus.NewDesc("probe_success", "1 when the test passed (up or warn), 0 when it failed.", nil, nil)
	pDurationDesc = prometheus.NewDesc("probe_duration_seconds", "Round-trip time of the whole test.", nil, nil)
	pPhaseDesc    = prometheus.NewDesc("probe_phase_duration_seconds", "Time of each phase of the test (connect, tls, greeting, ehlo, auth, …; a round trip's SMTP leg as smtp_…).", []string{"phase"}, nil)
	pTLSDesc      = prometheus.NewDesc("probe_tls_version_info", "The TLS version negotiated (1).", []string{"version"}, nil)
	pCertDesc     = prometheus.NewDesc("probe_ssl_earliest_cert_expiry", "When the server's certificate expires (Unix seconds).", nil, nil)
	pDelivDesc    = prometheus.NewDesc("probe_delivery_seconds", "Round trips: time from SMTP acceptance to the probe message seen in the mailbox.", nil, nil)
	pStatusDesc   = prometheus.NewDesc("mailmon_probe_status", "1 for the test's outcome: up, warn (slow, certificate expiring, delivered to junk) or down.", []string{"status"}, nil)
	pCodeDesc     = prometheus.NewDesc("mailmon_probe_error_code_info", "The classified error of a failed or warned test (1); the codes are mailmon's fixed list, never the server's text.", []string{"code"}, nil)
)

// probeCollector exposes one result.
type probeCollector struct{ res *probe.Result }

func (c probeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{pSuccessDesc, pDurationDesc, pPhaseDesc, pTLSDesc, pCertDesc, pDelivDesc, pStatusDesc, pCodeDesc} {
		ch <- d
	}
}

func (c probeCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.res
	gauge := func(d *prometheus.Desc, v float64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
	}
	success := 0.0
	if r.Status != probe.StatusDown {
		success = 1
	}
	gauge(pSuccessDesc, success)
	gauge(pDurationDesc, r.RTT.Seconds())
	seen := map[string]bool{}
	for _, p := range r.Phases {
		if !seen[p.Name] { // phase names come from mailmon, never from the server
			seen[p.Name] = true
			gauge(pPhaseDesc, p.Duration.Seconds(), p.Name)
		}
	}
	if r.TLS != nil {
		if v := tlsVersion(r.TLS.Version); v != "" {
			gauge(pTLSDesc, 1, v)
		}
		if !r.TLS.CertNotAfter.IsZero() {
			gauge(pCertDesc, float64(r.TLS.CertNotAfter.Unix()))
		}
	}
	if r.Delivery > 0 {
		gauge(pDelivDesc, r.Delivery.Seconds())
	}
	for _, s := range []probe.Status{probe.StatusUp, probe.StatusWarn, probe.StatusDown} {
		v := 0.0
		if s == r.Status {
			v = 1
		}
		gauge(pStatusDesc, v, string(s))
	}
	if r.Error != nil && knownCode(r.Error.Code) {
		gauge(pCodeDesc, 1, string(r.Error.Code))
	}
}

// tlsVersion is the version as blackbox_exporter labels it ("TLS 1.3"),
// from mailmon's fixed list; anything else is left out.
func tlsVersion(v string) string {
	switch v {
	case "TLS1.0", "TLS 1.0":
		return "TLS 1.0"
	case "TLS1.1", "TLS 1.1":
		return "TLS 1.1"
	case "TLS1.2", "TLS 1.2":
		return "TLS 1.2"
	case "TLS1.3", "TLS 1.3":
		return "TLS 1.3"
	}
	return ""
}

func knownCode(c probe.Code) bool {
	for _, k := range probe.Codes() {
		if k == c {
			return true
		}
	}
	return false
}

// ProbeRegistry is a fresh registry holding one /probe result, to be
// served once with promhttp.HandlerFor.
func ProbeRegistry(res *probe.Result) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(probeCollector{res})
	return reg
}
