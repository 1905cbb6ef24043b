package web

import (
	"fmt"
	"html/template"
	"math"
	"slices"
	"strings"
	"time"
)

// Charts are drawn here as SVG, inline in the page: no script, so they
// work under the CSP and without JavaScript. Only numbers and escaped
// labels go into them.

type point struct {
	T    time.Time
	V    float64 // ms
	Bad  bool    // a failed test: drawn as a mark on the time axis
	Code string  // why it failed: the mark's colour
}

// codeColours is how many colours failure marks take, one per error code
// of a chart (svg.chart .bad.k0 … in app.css).
const codeColours = 6

const chartW, chartH, padL, padB, padT = 720.0, 200.0, 56.0, 24.0, 10.0

// niceMax rounds a maximum up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// lineChart draws values over time from..to; id names it for tests and
// for the accessible description.
func lineChart(id, title, unit string, pts []point, from, to time.Time) template.HTML {
	var b strings.Builder
	maxV := 0.0
	for _, p := range pts {
		if !p.Bad {
			maxV = max(maxV, p.V)
		}
	}
	top := niceMax(maxV)
	span := to.Sub(from).Seconds()
	if span <= 0 {
		span = 1
	}
	x := func(t time.Time) float64 { return padL + (chartW-padL-8)*t.Sub(from).Seconds()/span }
	y := func(v float64) float64 { return padT + (chartH-padT-padB)*(1-v/top) }
	fmt.Fprintf(&b, `<svg class="chart" id="%s" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, template.HTMLEscapeString(id), chartW, chartH, template.HTMLEscapeString(title))
	fmt.Fprintf(&b, `<title>%s</title>`, template.HTMLEscapeString(title))
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, padL, chartW-8, y(v), y(v))
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, padL-4, y(v)+4, trimNum(v)+" "+template.HTMLEscapeString(unit))
	}
	fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.1f">%s</text>`, padL, chartH-6, from.UTC().Format("01-02 15:04"))
	fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="end">%s UTC</text>`, chartW-8, chartH-6, to.UTC().Format("01-02 15:04"))
	// Failures: a mark on the time axis, coloured by code, with a legend.
	codes := map[string]int{}
	var order []string
	for _, p := range pts {
		if p.Bad {
			if _, ok := codes[p.Code]; !ok {
				codes[p.Code] = len(order) % codeColours
				order = append(order, p.Code)
			}
			fmt.Fprintf(&b, `<rect class="bad k%d" x="%.1f" y="%.1f" width="3" height="10"><title>failed %s%s</title></rect>`,
				codes[p.Code], x(p.T)-1.5, chartH-padB-10, when(p.T), template.HTMLEscapeString(codeSuffix(p.Code)))
		}
	}
	lx := chartW / 2
	for i, c := range order {
		if i == codeColours {
			break
		}
		label := c
		if label == "" {
			label = "failed"
		}
		fmt.Fprintf(&b, `<rect class="bad k%d" x="%.1f" y="%.1f" width="8" height="8"/><text class="axis legend" x="%.1f" y="%.1f">%s</text>`,
			codes[c], lx-150+float64(i)*100, chartH-13, lx-138+float64(i)*100, chartH-6, template.HTMLEscapeString(label))
	}
	// The line, broken where no test passed for a while (a failure, or
	// no test at all: a gap of more than three usual intervals).
	gap := 3 * usualInterval(pts)
	var seg []point
	n := 0
	flush := func() {
		if len(seg) == 1 {
			fmt.Fprintf(&b, `<circle class="dot" cx="%.1f" cy="%.1f" r="2.5"><title>%s: %s</title></circle>`, x(seg[0].T), y(seg[0].V), when(seg[0].T), trimNum(seg[0].V)+" "+template.HTMLEscapeString(unit))
		} else if len(seg) > 1 {
			var line []string
			for _, p := range seg {
				line = append(line, fmt.Sprintf("%.1f,%.1f", x(p.T), y(p.V)))
			}
			fmt.Fprintf(&b, `<polyline class="line" points="%s"/>`, strings.Join(line, " "))
		}
		seg = seg[:0]
	}
	for _, p := range pts {
		if p.Bad {
			flush()
			continue
		}
		if len(seg) > 0 && gap > 0 && p.T.Sub(seg[len(seg)-1].T) > gap {
			flush()
		}
		seg = append(seg, p)
		n++
	}
	flush()
	if n > 0 && n <= 120 {
		for _, p := range pts {
			if !p.Bad {
				fmt.Fprintf(&b, `<circle class="dot" cx="%.1f" cy="%.1f" r="2"><title>%s: %s</title></circle>`, x(p.T), y(p.V), when(p.T), trimNum(p.V)+" "+template.HTMLEscapeString(unit))
			}
		}
	}
	switch {
	case len(pts) == 0:
		fmt.Fprintf(&b, `<text class="empty" x="%.1f" y="%.1f" text-anchor="middle">no test in this period</text>`, chartW/2, chartH/2)
	case n == 0:
		fmt.Fprintf(&b, `<text class="empty" x="%.1f" y="%.1f" text-anchor="middle">no test passed in this period: failures are marked on the time axis</text>`, chartW/2, chartH/2)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

type bar struct {
	Label string
	V     float64
	Extra float64 // a second value drawn as a tick (p95)
	Class string
	Text  string // drawn instead of a bar: there is no value ("no data yet")
}

// barChart draws horizontal bars, one per label, 0..top.
func barChart(id, title, unit string, bars []bar, top float64) template.HTML {
	if top <= 0 {
		for _, br := range bars {
			top = max(top, br.V, br.Extra)
		}
		top = niceMax(top)
	}
	const rowH, labelW = 22.0, 220.0
	h := padT + rowH*float64(len(bars)) + padB
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart bars" id="%s" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s"><title>%s</title>`,
		template.HTMLEscapeString(id), chartW, h, template.HTMLEscapeString(title), template.HTMLEscapeString(title))
	w := chartW - labelW - 70
	for i, br := range bars {
		y := padT + rowH*float64(i)
		label := br.Label
		if r := []rune(label); len(r) > 32 {
			label = string(r[:31]) + "…"
		}
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, labelW-6, y+15, template.HTMLEscapeString(label))
		if br.Text != "" {
			fmt.Fprintf(&b, `<text class="axis none" x="%.1f" y="%.1f">%s</text>`, labelW+4, y+15, template.HTMLEscapeString(br.Text))
			continue
		}
		bw := w * min(br.V/top, 1)
		fmt.Fprintf(&b, `<rect class="bar %s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %s</title></rect>`,
			template.HTMLEscapeString(br.Class), labelW, y+3, max(bw, 1), rowH-6, template.HTMLEscapeString(br.Label), trimNum(br.V)+" "+template.HTMLEscapeString(unit))
		if br.Extra > 0 {
			ex := labelW + w*min(br.Extra/top, 1)
			fmt.Fprintf(&b, `<line class="tick" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, ex, ex, y+1, y+rowH-1)
		}
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.1f">%s</text>`, labelW+max(bw, 1)+4, y+15, trimNum(br.V)+" "+template.HTMLEscapeString(unit))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// usualInterval is the median time between the points (0 for fewer than
// three).
func usualInterval(pts []point) time.Duration {
	if len(pts) < 3 {
		return 0
	}
	d := make([]time.Duration, 0, len(pts)-1)
	for i := 1; i < len(pts); i++ {
		d = append(d, pts[i].T.Sub(pts[i-1].T))
	}
	slices.Sort(d)
	return d[len(d)/2]
}

func codeSuffix(code string) string {
	if code == "" {
		return ""
	}
	return ": " + code
}

func trimNum(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}
