package metrics

import (
	"bufio"
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/wire"
)

// The per-monitor series are written straight in the text exposition
// format. Through client_golang's registry each series was a const metric,
// a dto.Metric, sorted and checked, then encoded: 18 KB and 290
// allocations a monitor for every scrape (1.8 GB at 100,000 monitors,
// ~15 series each), where writing the text needs none per series.

// family is one per-monitor metric family.
type family struct {
	name, help, typ string
}

var (
	stateFam = family{"mailmon_monitor_state", "1 for the monitor's current state.", "gauge"}
	testsFam = family{"mailmon_monitor_tests_total", "Tests since the daemon started, by result and error code.", "counter"}
	upFam    = family{"mailmon_monitor_up", "1 when the last test passed (up or warn), 0 when it failed.", "gauge"}
	rttFam   = family{"mailmon_monitor_rtt_seconds", "Round-trip time of the last test.", "gauge"}
	phaseFam = family{"mailmon_monitor_phase_seconds", "Time of each phase of the last test.", "gauge"}
	delivFam = family{"mailmon_monitor_delivery_seconds", "Delivery time of the last round trip's probe.", "gauge"}
	certFam  = family{"mailmon_monitor_cert_expiry_timestamp_seconds", "When the server's certificate expires; leg=\"smtp\": a round trip's SMTP leg.", "gauge"}
)

// label is one label of a series.
type label struct{ name, value string }

// exposition writes series of one family after another.
type exposition struct {
	w        *bufio.Writer
	location string // every series' location label, if not ""
	num      []byte // scratch for numbers
	written  bool   // the current family's header is written
	fam      family
}

// begin starts family f: its header is written with its first series.
func (x *exposition) begin(f family) { x.fam, x.written = f, false }

// sample writes one series of the current family: the monitor's labels
// (device, monitor, type), extra (at most two) and the location, sorted
// by name as client_golang writes them.
func (x *exposition) sample(m *monitorLabels, v float64, extra ...label) {
	if !x.written {
		x.written = true
		x.w.WriteString("# HELP " + x.fam.name + " ")
		x.w.WriteString(strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(x.fam.help))
		x.w.WriteString("\n# TYPE " + x.fam.name + " " + x.fam.typ + "\n")
	}
	var buf [6]label
	ls := append(buf[:0], label{"device", m.device}, label{"monitor", m.name}, label{"type", m.typ})
	if x.location != "" {
		ls = append(ls, label{"location", x.location})
	}
	ls = append(ls, extra...)
	slices.SortFunc(ls, func(a, b label) int { return strings.Compare(a.name, b.name) })
	x.w.WriteString(x.fam.name)
	for i, l := range ls {
		if i == 0 {
			x.w.WriteByte('{')
		} else {
			x.w.WriteByte(',')
		}
		x.w.WriteString(l.name)
		x.w.WriteString(`="`)
		writeEscaped(x.w, l.value)
		x.w.WriteByte('"')
	}
	x.w.WriteString("} ")
	x.num = appendFloat(x.num[:0], v)
	x.w.Write(x.num)
	x.w.WriteByte('\n')
}

// writeEscaped writes a label value escaped as the text format wants.
func writeEscaped(w *bufio.Writer, s string) {
	if !strings.ContainsAny(s, "\\\"\n") {
		w.WriteString(s)
		return
	}
	for _, r := range s {
		switch r {
		case '\\':
			w.WriteString(`\\`)
		case '"':
			w.WriteString(`\"`)
		case '\n':
			w.WriteString(`\n`)
		default:
			w.WriteRune(r)
		}
	}
}

// appendFloat formats v as expfmt does.
func appendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// monitorLabels are a monitor's own labels. Names stored before they
// refused hidden characters may hold one: it shows as U+FFFD, never raw
// on a dashboard.
type monitorLabels struct{ name, device, typ string }

// writeMonitors writes every monitor's series, one family after another.
func writeMonitors(w *bufio.Writer, snap []engine.MonitorSnapshot, location string) {
	slices.SortFunc(snap, func(a, b engine.MonitorSnapshot) int { return cmp.Compare(a.ID, b.ID) })
	lv := make([]monitorLabels, len(snap))
	for i, m := range snap {
		lv[i] = monitorLabels{wire.Sanitize(m.Name), wire.Sanitize(m.Device), m.Type}
	}
	x := &exposition{w: w, location: location}
	x.begin(stateFam)
	for i, m := range snap {
		for _, s := range state.States() {
			v := 0.0
			if s == m.State {
				v = 1
			}
			x.sample(&lv[i], v, label{"state", string(s)})
		}
	}
	x.begin(testsFam)
	for i, m := range snap {
		for k, n := range m.Tests {
			x.sample(&lv[i], float64(n), label{"result", string(k.Result)}, label{"code", string(k.Code)})
		}
	}
	x.begin(upFam)
	for i, m := range snap {
		if r := m.Last; r != nil {
			up := 0.0
			if r.Status != probe.StatusDown {
				up = 1
			}
			x.sample(&lv[i], up)
		}
	}
	x.begin(rttFam)
	for i, m := range snap {
		if r := m.Last; r != nil {
			x.sample(&lv[i], r.RTT.Seconds())
		}
	}
	x.begin(phaseFam)
	for i, m := range snap {
		if r := m.Last; r != nil {
			for j, p := range r.Phases {
				// phase names come from mailmon, never from the server; a
				// phase repeated is shown once, the first
				if !slices.ContainsFunc(r.Phases[:j], func(q probe.Phase) bool { return q.Name == p.Name }) {
					x.sample(&lv[i], p.Duration.Seconds(), label{"phase", p.Name})
				}
			}
		}
	}
	x.begin(delivFam)
	for i, m := range snap {
		if r := m.Last; r != nil && r.Delivery > 0 {
			x.sample(&lv[i], r.Delivery.Seconds())
		}
	}
	x.begin(certFam)
	for i, m := range snap {
		r := m.Last
		if r == nil {
			continue
		}
		// The monitor's server (a round trip's mailbox) has leg "",
		// which Prometheus stores as no label: its series stays what it
		// was.
		for _, c := range [...]struct {
			leg  string
			info *probe.TLSInfo
		}{{"", r.TLS}, {probe.LegSMTP, r.LegTLS(probe.LegSMTP)}} {
			if c.info != nil && !c.info.CertNotAfter.IsZero() {
				x.sample(&lv[i], float64(c.info.CertNotAfter.Unix()), label{"leg", c.leg})
			}
		}
	}
}
