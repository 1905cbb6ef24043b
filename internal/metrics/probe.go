package metrics

import (
	"fmt"
	"io"
	"strconv"
	"strings"

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

// WriteProbe writes one /probe result in the Prometheus text exposition
// format. It is written directly rather than through a registry made for
// each request, which cost as much CPU as a banner test itself. Every label
// value comes from mailmon's fixed lists (phase names, TLS versions,
// statuses, error codes), never from the server.
func WriteProbe(w io.Writer, r *probe.Result) error {
	samples := map[string][][2]string{} // series → (labels, value)
	add := func(name string, v float64, label ...string) {
		var l string
		if len(label) == 2 {
			l = "{" + label[0] + "=" + strconv.Quote(label[1]) + "}"
		}
		samples[name] = append(samples[name], [2]string{l, strconv.FormatFloat(v, 'g', -1, 64)})
	}
	success := 0.0
	if r.Status != probe.StatusDown {
		success = 1
	}
	add("probe_success", success)
	add("probe_duration_seconds", r.RTT.Seconds())
	seen := map[string]bool{}
	for _, p := range r.Phases {
		if !seen[p.Name] {
			seen[p.Name] = true
			add("probe_phase_duration_seconds", p.Duration.Seconds(), "phase", p.Name)
		}
	}
	if r.TLS != nil {
		if v := tlsVersion(r.TLS.Version); v != "" {
			add("probe_tls_version_info", 1, "version", v)
		}
		if !r.TLS.CertNotAfter.IsZero() {
			add("probe_ssl_earliest_cert_expiry", float64(r.TLS.CertNotAfter.Unix()))
		}
	}
	if r.Delivery > 0 {
		add("probe_delivery_seconds", r.Delivery.Seconds())
	}
	for _, s := range []probe.Status{probe.StatusUp, probe.StatusWarn, probe.StatusDown} {
		v := 0.0
		if s == r.Status {
			v = 1
		}
		add("mailmon_probe_status", v, "status", string(s))
	}
	if r.Error != nil && knownCode(r.Error.Code) {
		add("mailmon_probe_error_code_info", 1, "code", string(r.Error.Code))
	}
	var b strings.Builder
	for _, s := range probeSeries {
		ss := samples[s.name]
		if len(ss) == 0 {
			continue
		}
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", s.name, s.help, s.name)
		for _, x := range ss {
			b.WriteString(s.name + x[0] + " " + x[1] + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
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
