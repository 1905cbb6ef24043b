package plugin

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/mailmon/mailmon/internal/probe"
)

// judge applies the thresholds of the command line to the probe's result:
// a response or delivery time in a warning or critical range, a
// certificate valid for fewer than the critical days, a greeting without
// the expected text. What it finds is added to the result (its status and
// warnings), so that every output says the same; it returns the exit code
// and the perfdata, thresholds echoed.
func (f *flags) judge(r *probe.Result) (int, Perfdata) {
	if r.Status != probe.StatusDown {
		raise := func(to probe.Status, note string) {
			if to == probe.StatusDown || r.Status == probe.StatusUp {
				r.Status = to
			}
			r.Warnings = append(r.Warnings, note)
		}
		judgeTime := func(what string, v float64, warn, crit Range) {
			switch {
			case crit.Alert(v):
				raise(probe.StatusDown, fmt.Sprintf("%s %.3f s is %s: CRITICAL", what, v, crit.why(v)))
			case warn.Alert(v):
				raise(probe.StatusWarn, fmt.Sprintf("%s %.3f s is %s: WARNING", what, v, warn.why(v)))
			}
		}
		judgeTime("response time", r.RTT.Seconds(), f.warn, f.crit)
		if r.Delivery > 0 {
			judgeTime("delivery time", r.Delivery.Seconds(), f.warnDelivery, f.critDelivery)
		}
		for _, c := range f.certs(r) {
			if f.certDays.crit > 0 && c.info.DaysLeft < f.certDays.crit {
				raise(probe.StatusDown, fmt.Sprintf("%scertificate expires in %d days (%s), under %d: CRITICAL",
					c.who, c.info.DaysLeft, c.info.CertNotAfter.Format("2006-01-02"), f.certDays.crit))
			}
		}
		if greeting, ok := r.Details["greeting"].(string); ok && f.expect != "" && r.Type != "tcp" && !strings.Contains(greeting, f.expect) {
			raise(probe.StatusWarn, fmt.Sprintf("the greeting does not contain %q", f.expect))
		}
	}
	return exitCode(r), f.perfdata(r)
}

// leg is a certificate of the test: its own, or its SMTP leg's.
type leg struct {
	label, who string
	info       *probe.TLSInfo
}

func (f *flags) certs(r *probe.Result) []leg {
	var out []leg
	if r.TLS != nil && !r.TLS.CertNotAfter.IsZero() {
		out = append(out, leg{"cert_days_left", "", r.TLS})
	}
	if t := r.LegTLS(probe.LegSMTP); t != nil && !t.CertNotAfter.IsZero() {
		out = append(out, leg{"smtp_cert_days_left", "SMTP leg: ", t})
	}
	return out
}

// perfdata is the result's times in seconds, the total first with its
// thresholds, and the certificates' days left with theirs.
func (f *flags) perfdata(r *probe.Result) Perfdata {
	var pd Perfdata
	pd.Add(Perf{Label: "time", Value: secondsValue(r.RTT.Seconds()), UOM: "s", Warn: f.warn, Crit: f.crit, Min: "0"})
	if r.Delivery > 0 {
		pd.Add(Perf{Label: "delivery", Value: secondsValue(r.Delivery.Seconds()), UOM: "s", Warn: f.warnDelivery, Crit: f.critDelivery, Min: "0"})
	}
	for _, p := range r.Phases {
		pd.Add(Perf{Label: p.Name, Value: secondsValue(p.Duration.Seconds()), UOM: "s", Min: "0"})
	}
	for _, c := range f.certs(r) {
		pd.Add(Perf{Label: c.label, Value: strconv.Itoa(c.info.DaysLeft), Warn: atLeast(f.certDays.warn), Crit: atLeast(f.certDays.crit)})
	}
	return pd
}

// atLeast is the range "n:" (a value under n alerts), or none for 0.
func atLeast(n int) Range {
	if n <= 0 {
		return Range{}
	}
	return Range{Start: float64(n), End: math.Inf(1), set: true}
}

// exitCode is a result's exit code: UNKNOWN for a test that could not be
// configured, else by its status.
func exitCode(r *probe.Result) int {
	switch {
	case r.Error != nil && r.Error.Code == probe.ConfigMissing:
		return Unknown
	case r.Status == probe.StatusDown:
		return Critical
	case r.Status == probe.StatusWarn:
		return Warning
	}
	return OK
}
