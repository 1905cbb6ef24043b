package metrics

import (
	"bufio"
	"bytes"
	"cmp"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

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

// families are the per-monitor families, in the order they are written.
var families = [...]family{stateFam, testsFam, upFam, rttFam, phaseFam, delivFam, certFam}

// header is a family's HELP and TYPE lines.
func (f family) header() string {
	return "# HELP " + f.name + " " + strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(f.help) +
		"\n# TYPE " + f.name + " " + f.typ + "\n"
}

// label is one label of a series.
type label struct{ name, value string }

// block is one monitor's series in the text format, family after family:
// family i is text[ends[i-1]:ends[i]]. A block is never changed once
// rendered (a scrape may be writing it): a monitor that changes gets a
// new one.
type block struct {
	id   int64
	text []byte
	ends [len(families)]uint32
}

// segment is the block's series of family i.
func (b *block) segment(i int) []byte {
	var from uint32
	if i > 0 {
		from = b.ends[i-1]
	}
	return b.text[from:b.ends[i]]
}

// monitorSeries keeps every monitor's block between scrapes, so that a
// scrape renders only the monitors changed since the last one (tested,
// renamed, deleted) and copies the others' text: at 100,000 monitors
// (~1.2 KB of text each) rendering them all took ~1 s a scrape.
type monitorSeries struct {
	location string // every series' location label, if not ""

	mu      sync.Mutex
	since   uint64          // the engine's change count at the last scrape
	order   []*block        // by id; never changed once returned (a new slice instead)
	index   map[int64]int32 // each monitor's place in order
	ids     []int64
	snaps   []engine.MonitorSnapshot
	scratch []byte // a block rendered, before it is copied to its size
}

// current brings the blocks up to date with the engine and returns them
// in id order. The slice returned is never changed afterwards.
func (c *monitorSeries) current(e *engine.Engine) []*block {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.since, c.ids, c.snaps = e.SnapshotSince(c.since, c.ids[:0], c.snaps[:0])
	defer clear(c.snaps) // holds nothing between scrapes
	fresh := make([]*block, len(c.snaps))
	added := false
	for i := range c.snaps {
		fresh[i], c.scratch = render(&c.snaps[i], c.location, c.scratch[:0])
		_, known := c.index[c.snaps[i].ID]
		added = added || !known
	}
	if !added && len(c.ids) == len(c.order) {
		// The same monitors (any added is among the snapshots): the
		// changed ones take their places in a copy of the order.
		if len(fresh) > 0 {
			c.order = slices.Clone(c.order)
			for _, b := range fresh {
				c.order[c.index[b.id]] = b
			}
		}
		return c.order
	}
	// Monitors added or deleted: the order anew.
	order := make([]*block, 0, len(c.ids))
	renewed := make(map[int64]bool, len(fresh))
	for _, b := range fresh {
		order = append(order, b)
		renewed[b.id] = true
	}
	for _, id := range c.ids {
		if !renewed[id] {
			order = append(order, c.order[c.index[id]])
		}
	}
	slices.SortFunc(order, func(a, b *block) int { return cmp.Compare(a.id, b.id) })
	c.order = order
	c.index = make(map[int64]int32, len(order))
	for i, b := range order {
		c.index[b.id] = int32(i)
	}
	return c.order
}

// writeBlocks writes the blocks' series, one family after another, each
// family's header before its first series.
func writeBlocks(w *bufio.Writer, blocks []*block) {
	for i, f := range families {
		written := false
		for _, b := range blocks {
			seg := b.segment(i)
			if len(seg) == 0 {
				continue
			}
			if !written {
				written = true
				w.WriteString(f.header())
			}
			w.Write(seg)
		}
	}
}

// exposition renders one monitor's series into a block.
type exposition struct {
	b *block
	// base are the labels of every series of the monitor, escaped and
	// sorted by name: device, location (if any), monitor, type.
	base []label
	fam  family
}

// end ends family i in the block.
func (x *exposition) end(i int) { x.b.ends[i] = uint32(len(x.b.text)) }

// sample renders one series of the current family: the monitor's labels
// and extra (at most two, sorted by name), merged in the order of their
// names as client_golang writes them.
func (x *exposition) sample(v float64, extra ...label) {
	t := append(x.b.text, x.fam.name...)
	sep := byte('{')
	put := func(name, value string, escape bool) {
		t = append(t, sep)
		t = append(t, name...)
		t = append(t, `="`...)
		if escape {
			t = appendEscaped(t, value)
		} else {
			t = append(t, value...)
		}
		t = append(t, '"')
		sep = ','
	}
	i := 0
	for _, e := range extra {
		for ; i < len(x.base) && x.base[i].name < e.name; i++ {
			put(x.base[i].name, x.base[i].value, false)
		}
		put(e.name, e.value, true)
	}
	for ; i < len(x.base); i++ {
		put(x.base[i].name, x.base[i].value, false)
	}
	t = append(t, "} "...)
	t = appendFloat(t, v)
	x.b.text = append(t, '\n')
}

// needsEscape says whether a label value has a character the text format
// escapes.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c == '"' || c == '\n' {
			return true
		}
	}
	return false
}

// escaped is s escaped as a label value.
func escaped(s string) string {
	if !needsEscape(s) {
		return s
	}
	return string(appendEscaped(nil, s))
}

// appendEscaped appends a label value escaped as the text format wants.
func appendEscaped(b []byte, s string) []byte {
	if !needsEscape(s) {
		return append(b, s...)
	}
	for _, r := range s {
		switch r {
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return b
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

// render renders a monitor's series, family after family in the order
// of families (names stored before they refused hidden characters may
// hold one: it shows as U+FFFD, never raw on a dashboard), in scratch (returned, grown) and then a copy of its size.
func render(m *engine.MonitorSnapshot, location string, scratch []byte) (*block, []byte) {
	var base [4]label
	x := &exposition{b: &block{id: m.ID, text: scratch}, base: base[:0]}
	x.base = append(x.base, label{"device", escaped(wire.Sanitize(m.Device))})
	if location != "" {
		x.base = append(x.base, label{"location", escaped(location)})
	}
	x.base = append(x.base, label{"monitor", escaped(wire.Sanitize(m.Name))}, label{"type", escaped(m.Type)})
	x.fam = stateFam
	for _, s := range state.States() {
		v := 0.0
		if s == m.State {
			v = 1
		}
		x.sample(v, label{"state", string(s)})
	}
	x.end(0)
	x.fam = testsFam
	// by code, then result, as client_golang sorts a monitor's series
	keys := slices.SortedFunc(maps.Keys(m.Tests), func(a, b engine.TestKey) int {
		return cmp.Or(cmp.Compare(a.Code, b.Code), cmp.Compare(a.Result, b.Result))
	})
	for _, k := range keys {
		x.sample(float64(m.Tests[k]), label{"code", string(k.Code)}, label{"result", string(k.Result)})
	}
	x.end(1)
	r := m.Last
	if r == nil {
		for i := 2; i < len(families); i++ {
			x.end(i)
		}
		return x.b.sized()
	}
	x.fam = upFam
	up := 0.0
	if r.Status != probe.StatusDown {
		up = 1
	}
	x.sample(up)
	x.end(2)
	x.fam = rttFam
	x.sample(r.RTT.Seconds())
	x.end(3)
	x.fam = phaseFam
	for j, p := range r.Phases {
		// phase names come from mailmon, never from the server; a phase
		// repeated is shown once, the first
		if !slices.ContainsFunc(r.Phases[:j], func(q probe.Phase) bool { return q.Name == p.Name }) {
			x.sample(p.Duration.Seconds(), label{"phase", p.Name})
		}
	}
	x.end(4)
	x.fam = delivFam
	if r.Delivery > 0 {
		x.sample(r.Delivery.Seconds())
	}
	x.end(5)
	x.fam = certFam
	// The monitor's server (a round trip's mailbox) has leg "", which
	// Prometheus stores as no label: its series stays what it was.
	for _, c := range [...]struct {
		leg  string
		info *probe.TLSInfo
	}{{"", r.TLS}, {probe.LegSMTP, r.LegTLS(probe.LegSMTP)}} {
		if c.info != nil && !c.info.CertNotAfter.IsZero() {
			x.sample(float64(c.info.CertNotAfter.Unix()), label{"leg", c.leg})
		}
	}
	x.end(6)
	return x.b.sized()
}

// sized gives the block a copy of its text of its size and returns it
// with the buffer it was rendered in.
func (b *block) sized() (*block, []byte) {
	scratch := b.text
	b.text = bytes.Clone(scratch)
	return b, scratch
}
