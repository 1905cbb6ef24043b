package metrics

import (
	"cmp"
	"io"
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
// ~15 series each), where writing the text needs none per series. Each
// family's label order is worked out once (layout), each monitor's label
// values are escaped once a scrape, and a series is a few appends to one
// buffer.

// family is one per-monitor metric family: its series carry the monitor's
// labels (device, monitor, type), the node's location if it has one, and
// the family's own (extra).
type family struct {
	name, help, typ string
	extra           []string
}

var (
	stateFam = family{"mailmon_monitor_state", "1 for the monitor's current state.", "gauge", []string{"state"}}
	testsFam = family{"mailmon_monitor_tests_total", "Tests since the daemon started, by result and error code.", "counter", []string{"result", "code"}}
	upFam    = family{"mailmon_monitor_up", "1 when the last test passed (up or warn), 0 when it failed.", "gauge", nil}
	rttFam   = family{"mailmon_monitor_rtt_seconds", "Round-trip time of the last test.", "gauge", nil}
	phaseFam = family{"mailmon_monitor_phase_seconds", "Time of each phase of the last test.", "gauge", []string{"phase"}}
	delivFam = family{"mailmon_monitor_delivery_seconds", "Delivery time of the last round trip's probe.", "gauge", nil}
	certFam  = family{"mailmon_monitor_cert_expiry_timestamp_seconds", "When the server's certificate expires; leg=\"smtp\": a round trip's SMTP leg.", "gauge", []string{"leg"}}
)

// source is where a label's value comes from.
type source uint8

const (
	fromDevice source = iota
	fromMonitor
	fromType
	fromExtra0 // the family's first own label
	fromExtra1
)

// part is the text before a label's value (the series' name and "{" or
// the previous value's closing quote and ",", then `name="`; a constant
// label, the location, is folded into it) and where the value comes from.
type part struct {
	text string
	from source
}

// layout is how the series of a family are written on a node: labels
// sorted by name as client_golang writes them, worked out once.
type layout struct {
	header string // # HELP and # TYPE lines
	parts  []part
}

func newLayout(f family, location string) layout {
	type label struct {
		name  string
		from  source
		value string // the location's, escaped
	}
	ls := []label{{"device", fromDevice, ""}, {"monitor", fromMonitor, ""}, {"type", fromType, ""}}
	if location != "" {
		ls = append(ls, label{"location", 0, string(appendEscaped(nil, location))})
	}
	for i, name := range f.extra {
		ls = append(ls, label{name, fromExtra0 + source(i), ""})
	}
	slices.SortFunc(ls, func(a, b label) int { return strings.Compare(a.name, b.name) })
	var parts []part
	text := f.name + "{"
	for _, l := range ls {
		text += l.name + `="`
		if l.name == "location" {
			text += l.value + `",`
			continue
		}
		parts = append(parts, part{text, l.from})
		text = `",`
	}
	help := strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(f.help)
	return layout{header: "# HELP " + f.name + " " + help + "\n# TYPE " + f.name + " " + f.typ + "\n", parts: parts}
}

// layouts are the per-monitor families' layouts on a node, in the order a
// scrape writes them.
type layouts struct{ state, tests, up, rtt, phase, deliv, cert layout }

func newLayouts(location string) *layouts {
	return &layouts{newLayout(stateFam, location), newLayout(testsFam, location), newLayout(upFam, location),
		newLayout(rttFam, location), newLayout(phaseFam, location), newLayout(delivFam, location), newLayout(certFam, location)}
}

// flushAt is the buffered text at which it is written out.
const flushAt = 32 << 10

// exposition writes series of one family after another into buf, and
// buf to w when it fills.
type exposition struct {
	w       io.Writer
	err     error // w's first error: nothing more is written
	buf     []byte
	lay     *layout
	written bool // the current family's header is written
}

// begin starts a family: its header is written with its first series.
func (x *exposition) begin(l *layout) { x.lay, x.written = l, false }

// sample writes one series of the current family for monitor m, whose
// Name, Device and Type are label values already (labelValues), with the
// family's own label values e0 and e1.
func (x *exposition) sample(m *engine.MonitorSnapshot, v float64, e0, e1 string) {
	b := x.buf
	if !x.written {
		x.written = true
		b = append(b, x.lay.header...)
	}
	for _, p := range x.lay.parts {
		b = append(b, p.text...)
		switch p.from {
		case fromDevice:
			b = append(b, m.Device...)
		case fromMonitor:
			b = append(b, m.Name...)
		case fromType:
			b = append(b, m.Type...)
		case fromExtra0:
			b = appendEscaped(b, e0)
		case fromExtra1:
			b = appendEscaped(b, e1)
		}
	}
	b = append(b, `"} `...)
	b = appendValue(b, v)
	x.buf = append(b, '\n')
	if len(x.buf) >= flushAt {
		x.flush()
	}
}

// flush writes the buffered text out.
func (x *exposition) flush() {
	if x.err == nil && len(x.buf) > 0 {
		_, x.err = x.w.Write(x.buf)
	}
	x.buf = x.buf[:0]
}

// appendEscaped appends a label value escaped as the text format wants.
func appendEscaped(b []byte, s string) []byte {
	i := 0
	for i < len(s) && s[i] != '\\' && s[i] != '"' && s[i] != '\n' {
		i++
	}
	if i == len(s) {
		return append(b, s...)
	}
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// escaped is s escaped as a label value; s itself (no copy) when nothing
// needs escaping.
func escaped(s string) string {
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	return string(appendEscaped(nil, s))
}

// appendValue formats v as expfmt does (strconv's shortest 'g', with
// +Inf, -Inf and NaN, and -0 as 0), integers below a million (counts, 0
// and 1 above all) without going through the float formatting.
func appendValue(b []byte, v float64) []byte {
	switch {
	case v == 0:
		return append(b, '0')
	case v == 1:
		return append(b, '1')
	case v > -1e6 && v < 1e6 && v == math.Trunc(v):
		return strconv.AppendInt(b, int64(v), 10)
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// labelValues turns the monitor's name, device and type into their label
// values: sanitised (names stored before they refused hidden characters
// may hold one: it shows as U+FFFD, never raw on a dashboard) and
// escaped, once a scrape. The snapshot is the scrape's own copy.
func labelValues(m *engine.MonitorSnapshot) {
	m.Name = escaped(wire.Sanitize(m.Name))
	m.Device = escaped(wire.Sanitize(m.Device))
	m.Type = escaped(m.Type)
}

// idBits are the bits of a sort key that hold a monitor's index in the
// snapshot, the others its ID.
const idBits = 24

// sortByID sorts snap by monitor ID, if it is not already. It sorts one integer a monitor (ID
// and index), then moves each monitor once: sorting the snapshot itself
// moved 112-byte entries around and was ~27% of writing the text at
// 100,000 monitors.
func sortByID(snap []engine.MonitorSnapshot) {
	byID := func(a, b engine.MonitorSnapshot) int { return cmp.Compare(a.ID, b.ID) }
	if slices.IsSortedFunc(snap, byID) {
		return // as engine.Snapshot returns it
	}
	if len(snap) >= 1<<idBits || slices.ContainsFunc(snap, func(m engine.MonitorSnapshot) bool { return m.ID < 0 || m.ID >= 1<<(64-idBits) }) {
		slices.SortFunc(snap, byID)
		return
	}
	keys := make([]uint64, len(snap))
	for i := range snap {
		keys[i] = uint64(snap[i].ID)<<idBits | uint64(i)
	}
	slices.Sort(keys)
	// snap[j] gets the monitor at keys[j]'s index: follow each cycle of
	// that permutation once, marking the places filled
	const filled = ^uint64(0)
	for j := range keys {
		if keys[j] == filled {
			continue
		}
		first := snap[j]
		for k := j; ; {
			from := int(keys[k] & (1<<idBits - 1))
			keys[k] = filled
			if from == j {
				snap[k] = first
				break
			}
			snap[k] = snap[from]
			k = from
		}
	}
}

// writeMonitors writes every monitor's series, one family after another,
// to x; it changes snap (sorted by ID, names turned into label values).
func writeMonitors(x *exposition, snap []engine.MonitorSnapshot, ls *layouts) {
	sortByID(snap)
	for i := range snap {
		labelValues(&snap[i])
	}
	x.begin(&ls.state)
	for i := range snap {
		m := &snap[i]
		for _, s := range state.States() {
			v := 0.0
			if s == m.State {
				v = 1
			}
			x.sample(m, v, string(s), "")
		}
	}
	x.begin(&ls.tests)
	for i := range snap {
		m := &snap[i]
		for _, t := range m.Tests {
			x.sample(m, float64(t.N), string(t.Result), string(t.Code))
		}
	}
	x.begin(&ls.up)
	for i := range snap {
		if r := &snap[i].Last; r.Status != "" {
			up := 0.0
			if r.Status != probe.StatusDown {
				up = 1
			}
			x.sample(&snap[i], up, "", "")
		}
	}
	x.begin(&ls.rtt)
	for i := range snap {
		if r := &snap[i].Last; r.Status != "" {
			x.sample(&snap[i], r.RTT.Seconds(), "", "")
		}
	}
	x.begin(&ls.phase)
	for i := range snap {
		if r := &snap[i].Last; r.Status != "" {
			for j, p := range r.Phases {
				// phase names come from mailmon, never from the server; a
				// phase repeated is shown once, the first
				if !slices.ContainsFunc(r.Phases[:j], func(q probe.Phase) bool { return q.Name == p.Name }) {
					x.sample(&snap[i], p.Duration.Seconds(), p.Name, "")
				}
			}
		}
	}
	x.begin(&ls.deliv)
	for i := range snap {
		if r := &snap[i].Last; r.Delivery > 0 {
			x.sample(&snap[i], r.Delivery.Seconds(), "", "")
		}
	}
	x.begin(&ls.cert)
	for i := range snap {
		r := &snap[i].Last
		// The monitor's server (a round trip's mailbox) has leg "",
		// which Prometheus stores as no label: its series stays what it
		// was.
		if r.CertNotAfter != 0 {
			x.sample(&snap[i], float64(r.CertNotAfter), "", "")
		}
		if r.SMTPCertNotAfter != 0 {
			x.sample(&snap[i], float64(r.SMTPCertNotAfter), probe.LegSMTP, "")
		}
	}
}
