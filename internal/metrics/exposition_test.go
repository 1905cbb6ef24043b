package metrics

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/proto"

	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/wire"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the code")

// variedSnapshot is a snapshot with every case the per-monitor families
// have: names to escape or sanitise, each state, no test yet, a round
// trip's delivery and SMTP leg, a phase repeated, values 0, 1, small and
// large integers, fractions. oneOutcome keeps a single test outcome a
// monitor (several came out in a map's order before 2026-12-06, so only
// the client_golang comparison can hold them).
func variedSnapshot(oneOutcome bool) []engine.MonitorSnapshot {
	expiry := time.Date(2027, 3, 14, 9, 26, 53, 0, time.UTC)
	leg := time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)
	ph := func(names ...string) []probe.Phase {
		var ps []probe.Phase
		for i, n := range names {
			ps = append(ps, probe.Phase{Name: n, Duration: time.Duration(i+1) * 1234567 * time.Nanosecond})
		}
		return ps
	}
	snap := []engine.MonitorSnapshot{
		{ID: 9, Name: "tcp-1", Device: "mx1", Type: "tcp", State: state.Up,
			Last:  engine.LastTest{Status: probe.StatusUp, RTT: 250 * time.Microsecond, Phases: ph("connect")},
			Tests: []engine.TestCount{{TestKey: engine.TestKey{Result: probe.StatusUp}, N: 1}}},
		{ID: 3, Name: `quote"back\slash`, Device: "line\nbreak", Type: "smtp", State: state.Down,
			Last:  engine.LastTest{Status: probe.StatusDown, RTT: 2 * time.Second, Phases: ph("connect", "greeting", "greeting")},
			Tests: []engine.TestCount{{TestKey: engine.TestKey{Result: probe.StatusDown, Code: probe.Timeout}, N: 1234567}}},
		{ID: 4, Name: "SMTP\x1b[2J\u0085", Device: "mail\u202e1", Type: "smtp", State: state.Disabled},
		{ID: 5, Name: "pending", Device: "mx1", Type: "imap", State: state.Pending},
		{ID: 6, Name: "rt", Device: "mx2", Type: "imap-roundtrip", State: state.Warn,
			Last: engine.LastTest{Status: probe.StatusWarn, RTT: 61 * time.Second, Delivery: 1500 * time.Millisecond,
				Phases:       ph("smtp_connect", "smtp_starttls", "connect", "tls", "login", "search"),
				CertNotAfter: expiry.Unix(), SMTPCertNotAfter: leg.Unix()},
			Tests: []engine.TestCount{{TestKey: engine.TestKey{Result: probe.StatusWarn}, N: 999999}}},
		{ID: 7, Name: "starttls", Device: "mx2", Type: "smtp", State: state.Maintenance,
			Last:  engine.LastTest{Status: probe.StatusUp, Phases: ph("connect", "greeting", "capabilities", "starttls", "capabilities_tls", "quit"), CertNotAfter: expiry.Unix()},
			Tests: []engine.TestCount{{TestKey: engine.TestKey{Result: probe.StatusUp}, N: 1000000}}},
		{ID: 8, Name: "lost", Device: "ünïcode", Type: "pop3", State: state.Lost,
			Last:  engine.LastTest{Status: probe.StatusDown, RTT: 0, Phases: ph("connect")},
			Tests: []engine.TestCount{{TestKey: engine.TestKey{Result: probe.StatusDown, Code: probe.ConnectFailed}, N: 0}}},
	}
	if !oneOutcome {
		// sorted by code, then result, as the engine keeps them
		snap[0].Tests = []engine.TestCount{{TestKey: engine.TestKey{Result: probe.StatusUp}, N: 1},
			{TestKey: engine.TestKey{Result: probe.StatusDown, Code: probe.ConnectFailed}, N: 3},
			{TestKey: engine.TestKey{Result: probe.StatusDown, Code: probe.Timeout}, N: 2}}
		snap[5].Tests = []engine.TestCount{{TestKey: engine.TestKey{Result: probe.StatusUp}, N: 1000000},
			{TestKey: engine.TestKey{Result: probe.StatusWarn}, N: 1},
			{TestKey: engine.TestKey{Result: probe.StatusDown, Code: probe.TLSFailed}, N: 12345678}}
	}
	return snap
}

// monitorFamilies are the per-monitor families in the order a scrape
// writes them (docs/prometheus.md).
var monitorFamilies = []string{"mailmon_monitor_state", "mailmon_monitor_tests_total", "mailmon_monitor_up",
	"mailmon_monitor_rtt_seconds", "mailmon_monitor_phase_seconds", "mailmon_monitor_delivery_seconds",
	"mailmon_monitor_cert_expiry_timestamp_seconds"}

// exposeMonitors is the per-monitor part of a scrape of snap.
func exposeMonitors(t *testing.T, snap []engine.MonitorSnapshot, location string) string {
	t.Helper()
	var b bytes.Buffer
	newExpositor(location).write(&b, false, slices.Clone(snap), nil)
	return b.String()
}

// TestExpositionGolden: the per-monitor series are the same bytes as
// testdata/monitors*.golden, written by the code of 2026-12-06 before
// the scrape was made cheaper (go test -run ExpositionGolden -update
// rewrites them).
func TestExpositionGolden(t *testing.T) {
	for _, c := range []struct{ file, location string }{{"monitors.golden", ""}, {"monitors-located.golden", `eu-"west"`}} {
		got := exposeMonitors(t, variedSnapshot(true), c.location)
		path := filepath.Join("testdata", c.file)
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("%s: the exposition changed:\n%s", c.file, lineDiff(string(want), got))
		}
	}
}

// lineDiff shows the first lines where want and got differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\nwant %s\ngot  %s", i+1, a, b)
		}
	}
	return "(same lines)"
}

// TestExpositionAsClientGolang: every per-monitor series is the line
// client_golang writes for the same const metric (labels sorted by name,
// values escaped, numbers formatted as expfmt does), each family's HELP
// and TYPE are its, and the families come in the documented order.
func TestExpositionAsClientGolang(t *testing.T) {
	for _, location := range []string{"", "eu-west"} {
		snap := variedSnapshot(false)
		got := exposeMonitors(t, snap, location)
		want := clientGolangExposition(t, snap, location)
		parser := expfmt.NewTextParser(model.LegacyValidation)
		if _, err := parser.TextToMetricFamilies(strings.NewReader(got)); err != nil {
			t.Fatalf("invalid exposition: %v\n%s", err, got)
		}
		gotFams, wantFams := familyLines(got), familyLines(want)
		var order []string
		for _, f := range gotFams {
			order = append(order, f.name)
		}
		// client_golang writes a family with no series not at all, as
		// a scrape does
		var present []string
		for _, name := range monitorFamilies {
			if slices.ContainsFunc(wantFams, func(f linesOf) bool { return f.name == name }) {
				present = append(present, name)
			}
		}
		if !slices.Equal(order, present) {
			t.Errorf("location %q: families %v, want %v", location, order, present)
		}
		for _, w := range wantFams {
			i := slices.IndexFunc(gotFams, func(f linesOf) bool { return f.name == w.name })
			if i < 0 {
				t.Errorf("location %q: no family %s", location, w.name)
				continue
			}
			g := gotFams[i]
			if !slices.Equal(g.header, w.header) {
				t.Errorf("%s: header %q, want %q", w.name, g.header, w.header)
			}
			gs, ws := slices.Sorted(slices.Values(g.series)), slices.Sorted(slices.Values(w.series))
			if !slices.Equal(gs, ws) {
				t.Errorf("location %q, %s: series\n%s\nwant\n%s", location, w.name, strings.Join(gs, "\n"), strings.Join(ws, "\n"))
			}
		}
	}
}

// linesOf are one family's lines of a text exposition.
type linesOf struct {
	name           string
	header, series []string
}

// familyLines splits a text exposition into its families, in order.
func familyLines(text string) []linesOf {
	var fams []linesOf
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if name, ok := strings.CutPrefix(l, "# HELP "); ok {
			name, _, _ = strings.Cut(name, " ")
			fams = append(fams, linesOf{name: name})
		}
		f := &fams[len(fams)-1]
		if strings.HasPrefix(l, "# ") {
			f.header = append(f.header, l)
		} else {
			f.series = append(f.series, l)
		}
	}
	return fams
}

// clientGolangExposition is what client_golang's registry and expfmt
// write for the per-monitor series of snap, as mailmon did through const
// metrics until 2026-12-06 (families sorted by name).
func clientGolangExposition(t *testing.T, snap []engine.MonitorSnapshot, location string) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	var r prometheus.Registerer = reg
	if location != "" {
		r = prometheus.WrapRegistererWith(prometheus.Labels{"location": location}, reg)
	}
	r.MustRegister(referenceCollector(snap))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, textFormat)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// referenceCollector collects snap's per-monitor series as const metrics.
type referenceCollector []engine.MonitorSnapshot

var refLabels = []string{"monitor", "device", "type"}

func refDesc(f family, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc(f.name, f.help, append(slices.Clone(refLabels), extra...), nil)
}

func (c referenceCollector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c referenceCollector) Collect(ch chan<- prometheus.Metric) {
	stateD, testsD, upD := refDesc(stateFam, "state"), refDesc(testsFam, "result", "code"), refDesc(upFam)
	rttD, phaseD, delivD, certD := refDesc(rttFam), refDesc(phaseFam, "phase"), refDesc(delivFam), refDesc(certFam, "leg")
	gauge := func(d *prometheus.Desc, v float64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
	}
	for _, m := range c {
		lv := []string{wire.Sanitize(m.Name), wire.Sanitize(m.Device), m.Type}
		for _, s := range state.States() {
			v := 0.0
			if s == m.State {
				v = 1
			}
			gauge(stateD, v, append(lv, string(s))...)
		}
		for _, c := range m.Tests {
			ch <- prometheus.MustNewConstMetric(testsD, prometheus.CounterValue, float64(c.N), append(lv, string(c.Result), string(c.Code))...)
		}
		r := m.Last
		if r.Status == "" {
			continue
		}
		up := 0.0
		if r.Status != probe.StatusDown {
			up = 1
		}
		gauge(upD, up, lv...)
		gauge(rttD, r.RTT.Seconds(), lv...)
		seen := map[string]bool{}
		for _, p := range r.Phases {
			if !seen[p.Name] {
				seen[p.Name] = true
				gauge(phaseD, p.Duration.Seconds(), append(lv, p.Name)...)
			}
		}
		if r.Delivery > 0 {
			gauge(delivD, r.Delivery.Seconds(), lv...)
		}
		if r.CertNotAfter != 0 {
			gauge(certD, float64(r.CertNotAfter), append(lv, "")...)
		}
		if r.SMTPCertNotAfter != 0 {
			gauge(certD, float64(r.SMTPCertNotAfter), append(lv, probe.LegSMTP)...)
		}
	}
}

// TestAppendValue: a value is written as expfmt writes it, the integers
// taken the short way included (those of a million and more are written
// with an exponent by both).
func TestAppendValue(t *testing.T) {
	values := []float64{0, math.Copysign(0, -1), 1, -1, 2, 7, 42, 999999, -999999, 1e6, 1e6 + 1, 1234567, 1.5, 0.000137,
		1e-7, 1780000000, 1e21, 123456789012, math.MaxInt64, math.Inf(1), math.Inf(-1), math.NaN(), math.SmallestNonzeroFloat64,
		math.MaxFloat64, 0.1 + 0.2, 60, 3600, 86400}
	for i := range 2000 {
		values = append(values, float64(i*i*7919%1000003), float64(i)/7, -float64(i)*1e3, time.Duration(i*1234567).Seconds())
	}
	for _, v := range values {
		var b bytes.Buffer
		mf := &dto.MetricFamily{Name: proto.String("x"), Type: dto.MetricType_GAUGE.Enum(),
			Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(v)}}}}
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
		_, want, _ := strings.Cut(b.String(), "\nx ")
		want = strings.TrimSuffix(want, "\n")
		if got := string(appendValue(nil, v)); got != want {
			t.Errorf("%v: %q, expfmt %q", v, got, want)
		}
	}
}

// TestExpositionGzipped: the gzipped exposition is the plain one, read
// back by Go's gzip reader as Prometheus reads it.
func TestExpositionGzipped(t *testing.T) {
	snap := variedSnapshot(false)
	x := newExpositor("eu-west")
	var plain, zipped bytes.Buffer
	x.write(&plain, false, slices.Clone(snap), nil)
	for range 2 { // a compressor from the pool, then the same again
		zipped.Reset()
		x.write(&zipped, true, slices.Clone(snap), nil)
		zr, err := gzip.NewReader(&zipped)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, plain.Bytes()) {
			t.Fatalf("%v: gunzipped %d bytes, plain %d", err, len(got), plain.Len())
		}
	}
}

// TestSortByID: the snapshot comes out sorted by ID, every monitor once,
// whatever order it came in, IDs too large for the packed keys included.
func TestSortByID(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct {
		n     int
		maxID int64
	}{{0, 10}, {1, 10}, {2, 10}, {1000, 5000}, {1000, 1 << 50}, {5000, math.MaxInt64}} {
		ids := map[int64]bool{}
		var snap []engine.MonitorSnapshot
		for len(snap) < c.n {
			id := r.Int64N(c.maxID) + 1
			if !ids[id] {
				ids[id] = true
				snap = append(snap, engine.MonitorSnapshot{ID: id, Name: fmt.Sprint(id)})
			}
		}
		sortByID(snap)
		for i, m := range snap {
			if m.Name != fmt.Sprint(m.ID) || i > 0 && snap[i-1].ID >= m.ID || !ids[m.ID] {
				t.Fatalf("%d monitors up to ID %d: at %d, %+v after %+v", c.n, c.maxID, i, m, snap[max(i-1, 0)])
			}
			delete(ids, m.ID)
		}
		if len(ids) != 0 {
			t.Errorf("%d monitors up to ID %d: %d lost", c.n, c.maxID, len(ids))
		}
	}
}
