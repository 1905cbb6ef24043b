package main

import (
	"fmt"
	"strings"
)

// chart draws the samples as an SVG of stacked panels sharing the time
// axis: CPU, RSS, descriptors, goroutines, scheduler lag. The lag panel is
// scaled to the samples after the first, which holds the start-up (every
// monitor's first test within half a minute) and would flatten the rest;
// a value off the scale is drawn at the top and named in the title.
func chart(pts []point) string {
	panels := []struct {
		title     string
		value     func(point) float64
		unit      string
		skipFirst bool
	}{
		{"CPU", func(p point) float64 { return p.cores }, "cores", false},
		{"RSS", func(p point) float64 { return p.rss }, "MiB", false},
		{"open descriptors", func(p point) float64 { return float64(p.fds) }, "", false},
		{"goroutines", func(p point) float64 { return float64(p.gorout) }, "", false},
		{"scheduler lag p99", func(p point) float64 { return p.lagP99 }, "ms", true},
	}
	const w, ph, left, right, top, gap = 720.0, 90.0, 70.0, 20.0, 20.0, 30.0
	h := top + float64(len(panels))*(ph+gap) + 20
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="11">`+"\n", w, h, w, h)
	b.WriteString(`<rect width="100%" height="100%" fill="white"/>` + "\n")
	var tMax float64
	for _, p := range pts {
		tMax = max(tMax, p.t.Seconds())
	}
	if tMax == 0 {
		tMax = 1
	}
	for i, pn := range panels {
		y0 := top + float64(i)*(ph+gap)
		var vMax float64
		scaled := pts
		if pn.skipFirst && len(pts) > 1 {
			scaled = pts[1:]
		}
		for _, p := range scaled {
			vMax = max(vMax, pn.value(p))
		}
		if vMax == 0 {
			vMax = 1
		}
		vMax *= 1.1
		title := pn.title
		if len(pts) > 0 && pn.value(pts[0]) > vMax {
			title += fmt.Sprintf(" (start-up sample off the scale: %s %s)", num(pn.value(pts[0])), pn.unit)
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-weight="bold">%s</text>`+"\n", left, y0-6, title)
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#ccc"/>`+"\n", left, y0, w-left-right, ph)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="end">%s %s</text>`+"\n", left-4, y0+10, num(vMax), pn.unit)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="end">0</text>`+"\n", left-4, y0+ph)
		var pl []string
		for _, p := range pts {
			x := left + p.t.Seconds()/tMax*(w-left-right)
			y := y0 + ph - min(pn.value(p), vMax)/vMax*ph
			pl = append(pl, fmt.Sprintf("%.1f,%.1f", x, y))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="#1f6feb" stroke-width="1.5" points="%s"/>`+"\n", strings.Join(pl, " "))
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="end">%s</text>`+"\n", w-right, h-6, fmt.Sprintf("%.0f min", tMax/60))
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f">0</text>`+"\n", left, h-6)
	b.WriteString("</svg>\n")
	return b.String()
}

func num(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2g", v)
}
