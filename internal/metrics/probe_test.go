package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mailmon/mailmon/internal/probe"
)

// WriteProbe's text is valid exposition (read back with Prometheus' own
// parser) and carries each series with the result's values.
func TestWriteProbeParses(t *testing.T) {
	expiry := time.Unix(1_800_000_000, 0)
	res := &probe.Result{Status: probe.StatusDown, RTT: 1500 * time.Millisecond,
		Phases: []probe.Phase{{Name: "connect", Duration: time.Millisecond}, {Name: "tls", Duration: 2 * time.Millisecond},
			{Name: "connect", Duration: 5 * time.Millisecond}}, // a second connect (a retry): the first is reported
		TLS:   &probe.TLSInfo{Version: "TLS1.3", CertNotAfter: expiry},
		Error: &probe.Error{Code: probe.AuthFailed, Message: `"quoted" <html> \ text`}}
	var b strings.Builder
	if err := WriteProbe(&b, res); err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("%v in:\n%s", err, b.String())
	}
	get := func(name, label, value string) float64 {
		t.Helper()
		f := fams[name]
		if f == nil {
			t.Fatalf("no %s in:\n%s", name, b.String())
		}
		for _, m := range f.Metric {
			ok := label == ""
			for _, l := range m.Label {
				ok = ok || (l.GetName() == label && l.GetValue() == value)
			}
			if ok {
				return m.GetGauge().GetValue()
			}
		}
		t.Fatalf("no %s{%s=%q}", name, label, value)
		return 0
	}
	if get("probe_success", "", "") != 0 || get("probe_duration_seconds", "", "") != 1.5 {
		t.Error("success or duration wrong")
	}
	if get("probe_phase_duration_seconds", "phase", "tls") != 0.002 || get("probe_phase_duration_seconds", "phase", "connect") != 0.001 {
		t.Error("tls or connect phase wrong")
	}
	if n := strings.Count(b.String(), `phase="connect"`); n != 1 {
		t.Errorf("connect reported %d times, want once", n)
	}
	if get("probe_tls_version_info", "version", "TLS 1.3") != 1 || get("probe_ssl_earliest_cert_expiry", "", "") != 1.8e9 {
		t.Error("TLS series wrong")
	}
	if get("mailmon_probe_status", "status", "down") != 1 || get("mailmon_probe_status", "status", "up") != 0 {
		t.Error("status wrong")
	}
	if get("mailmon_probe_error_code_info", "code", "auth_failed") != 1 {
		t.Error("code wrong")
	}
	if strings.Contains(b.String(), "quoted") || fams["probe_delivery_seconds"] != nil {
		t.Errorf("server text or a series that does not apply:\n%s", b.String())
	}
}
