package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// Charts are drawn here as SVG, inline in the page: no script, so they
// work under the CSP and without JavaScript. Only numbers and escaped
// labels go into them.

type point struct {
	T   time.Time
	V   float64 // ms
	Bad bool    // a failed test: drawn as a red mark at the bottom
}

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
	var line []string
	n := 0
	for _, p := range pts {
		if p.Bad {
			fmt.Fprintf(&b, `<rect class="bad" x="%.1f" y="%.1f" width="3" height="8"><title>failed %s</title></rect>`, x(p.T)-1.5, chartH-padB-8, when(p.T))
			continue
		}
		line = append(line, fmt.Sprintf("%.1f,%.1f", x(p.T), y(p.V)))
		n++
	}
	if n > 0 {
		fmt.Fprintf(&b, `<polyline class="line" points="%s"/>`, strings.Join(line, " "))
		if n <= 120 {
			for _, p := range pts {
				if !p.Bad {
					fmt.Fprintf(&b, `<circle class="dot" cx="%.1f" cy="%.1f" r="2"><title>%s: %s</title></circle>`, x(p.T), y(p.V), when(p.T), trimNum(p.V)+" "+template.HTMLEscapeString(unit))
				}
			}
		}
	} else {
		fmt.Fprintf(&b, `<text class="empty" x="%.1f" y="%.1f" text-anchor="middle">no data in this period</text>`, chartW/2, chartH/2)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

type bar struct {
	Label string
	V     float64
	Extra float64 // a second value drawn as a tick (p95)
	Class string
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
