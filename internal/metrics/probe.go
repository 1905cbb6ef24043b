package metrics

import (
	"io"
	"strconv"
	"sync"

	"github.com/mailmon/mailmon/internal/probe"
)

// The series of /probe, named as blackbox_exporter names them where it has
// the same thing (probe_success, probe_duration_seconds,
// probe_tls_version_info, probe_ssl_earliest_cert_expiry), so that
// dashboards and rules written for it work.
var probeSeries = []struct{ name, help string }{
	{"probe_success", "1 when the test passed (up or warn), 0 when it failed."},
	{"probe_duration_seconds", "Round-trip time of the whole test."},
	{"probe_phase_duration_seconds", "Time of each phase of the test (connect, tls, greeting, ehlo, auth, …; a round trip's SMTP leg as smtp_…)."},
	{"probe_tls_version_info", "The TLS version negotiated (1)."},
	{"probe_ssl_earliest_cert_expiry", "When the server's certificate expires (Unix seconds)."},
	{"probe_delivery_seconds", "Round trips: time from SMTP acceptance to the probe message seen in the mailbox."},
	{"mailmon_probe_status", "1 for the test's outcome: up, warn (slow, certificate expiring, delivered to junk) or down."},
	{"mailmon_probe_error_code_info", "The classified error of a failed or warned test (1); the codes are mailmon's fixed list, never the server's text."},
}

// ProbeContentType is the media type WriteProbe writes.
const ProbeContentType = "text/plain; version=0.0.4; charset=utf-8"

// probeHeads are the # HELP and # TYPE lines of each of probeSeries.
var probeHeads = func() []string {
	h := make([]string, len(probeSeries))
	for i, s := range probeSeries {
		h[i] = "# HELP " + s.name + " " + s.help + "\n# TYPE " + s.name + " gauge\n"
	}
	return h
}()

// Indexes into probeSeries.
const (
	seriesSuccess = iota
	seriesDuration
	seriesPhase
	seriesTLSVersion
	seriesCertExpiry
	seriesDelivery
	seriesStatus
	seriesErrorCode
)

// probeSample is one line of the exposition: a series, an optional label
// and the value.
type probeSample struct {
	series       int
	label, value string
	v            float64
}

var probeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// WriteProbe writes one /probe result in the Prometheus text exposition
// format. It is written directly, into one pooled buffer, rather than
// through a registry made for each request, which cost as much CPU as a
// banner test itself. Every label value comes from mailmon's fixed lists
// (phase names, TLS versions, statuses, error codes), never from the server.
func WriteProbe(w io.Writer, r *probe.Result) error {
	var arr [24]probeSample
	samples := arr[:0]
	add := func(series int, v float64, label, value string) {
		samples = append(samples, probeSample{series: series, label: label, value: value, v: v})
	}
	success := 0.0
	if r.Status != probe.StatusDown {
		success = 1
	}
	add(seriesSuccess, success, "", "")
	add(seriesDuration, r.RTT.Seconds(), "", "")
	for i, p := range r.Phases {
		first := true
		for _, q := range r.Phases[:i] {
			first = first && q.Name != p.Name
		}
		if first {
			add(seriesPhase, p.Duration.Seconds(), "phase", p.Name)
		}
	}
	if r.TLS != nil {
		if v := tlsVersion(r.TLS.Version); v != "" {
			add(seriesTLSVersion, 1, "version", v)
		}
		if !r.TLS.CertNotAfter.IsZero() {
			add(seriesCertExpiry, float64(r.TLS.CertNotAfter.Unix()), "", "")
		}
	}
	if r.Delivery > 0 {
		add(seriesDelivery, r.Delivery.Seconds(), "", "")
	}
	for _, s := range []probe.Status{probe.StatusUp, probe.StatusWarn, probe.StatusDown} {
		v := 0.0
		if s == r.Status {
			v = 1
		}
		add(seriesStatus, v, "status", string(s))
	}
	if r.Error != nil && knownCode(r.Error.Code) {
		add(seriesErrorCode, 1, "code", string(r.Error.Code))
	}

	bp := probeBufs.Get().(*[]byte)
	b := (*bp)[:0]
	for i, s := range probeSeries {
		head := true
		for _, x := range samples {
			if x.series != i {
				continue
			}
			if head {
				b = append(b, probeHeads[i]...)
				head = false
			}
			b = append(b, s.name...)
			if x.label != "" {
				b = append(b, '{')
				b = append(b, x.label...)
				b = append(b, '=')
				b = strconv.AppendQuote(b, x.value)
				b = append(b, '}')
			}
			b = append(b, ' ')
			b = strconv.AppendFloat(b, x.v, 'g', -1, 64)
			b = append(b, '\n')
		}
	}
	_, err := w.Write(b)
	*bp = b
	probeBufs.Put(bp)
	return err
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
