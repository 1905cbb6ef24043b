package web

import (
	"fmt"
	"html"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/mailmon/mailmon/internal/report"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/wire"
)

// Badges: small flat SVG images, as shields.io draws them, of a public
// status page's state (/badge/PAGE/status.svg) and of each of its
// monitors' state and 30-day uptime (/badge/PAGE/DEVICE/MONITOR/status.svg,
// …/uptime-30d.svg). Only public pages have them: a badge is shown where
// no session is.

// badgeColours by state: shields.io's palette.
var badgeColours = map[state.State]string{
	state.Up: "#44cc11", state.Warn: "#dfb317", state.Down: "#e05d44", state.Maintenance: "#007ec6", stateUnknown: "#9f9f9f",
}

// badgeWidth estimates a text's width in pixels in 11 px Verdana (the
// badges' font), from the widths of narrow, wide and other characters.
func badgeWidth(s string) int {
	w := 0.0
	for _, r := range s {
		switch {
		case strings.ContainsRune("il.,:;|!'’ ", r):
			w += 3.9
		case strings.ContainsRune("mwMW%@", r):
			w += 10.5
		case r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			w += 7.5
		default:
			w += 6.6
		}
	}
	return int(w + 0.5)
}

// badgeSVG draws a badge: label on grey, message on colour. Both are
// escaped; a label is cut at 40 characters.
func badgeSVG(label, message, colour string) []byte {
	label = wire.Sanitize(label)
	if utf8.RuneCountInString(label) > 40 {
		label = string([]rune(label)[:39]) + "…"
	}
	lw, mw := badgeWidth(label)+10, badgeWidth(message)+10
	w := lw + mw
	l, m := html.EscapeString(label), html.EscapeString(message)
	return fmt.Appendf(nil, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s: %s">`+
		`<title>%s: %s</title>`+
		`<linearGradient id="s" x2="0" y2="100%%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`+
		`<clipPath id="r"><rect width="%d" height="20" rx="3" fill="#fff"/></clipPath>`+
		`<g clip-path="url(#r)"><rect width="%d" height="20" fill="#555"/><rect x="%d" width="%d" height="20" fill="%s"/><rect width="%d" height="20" fill="url(#s)"/></g>`+
		`<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">`+
		`<text x="%d" y="15" fill="#010101" fill-opacity=".3">%s</text><text x="%d" y="14">%s</text>`+
		`<text x="%d" y="15" fill="#010101" fill-opacity=".3">%s</text><text x="%d" y="14">%s</text></g></svg>`,
		w, l, m, l, m, w, lw, lw, mw, colour, w,
		lw/2, l, lw/2, l, lw+mw/2, m, lw+mw/2, m)
}

// writeBadge sends a badge with the headers an image needs: its type, a
// policy that lets it run and load nothing, and a short shared cache.
func writeBadge(w http.ResponseWriter, svg []byte) {
	h := w.Header()
	h.Set("Content-Type", "image/svg+xml")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(statusTTL.Seconds())))
	w.Write(svg)
}

func stateWord(s state.State) string {
	if s == stateUnknown {
		return "unknown"
	}
	return strings.ToLower(stateLabel(s))
}

// badgeStatus is the view of the public page a badge is of; false when
// the answer is sent (too many requests, no such public page).
func (s *Server) badgeStatus(w http.ResponseWriter, r *http.Request) (statusEntry, bool) {
	if !s.statusLimit(w, r) {
		return statusEntry{}, false
	}
	p, err := s.statusPageOf(w, r, true)
	if err == nil {
		var e statusEntry
		if e, err = s.statusOf(r.Context(), p); err == nil {
			return e, true
		}
	}
	s.statusFail(w, r, err)
	return statusEntry{}, false
}

// pageBadge is /badge/PAGE/status.svg: the page's overall state.
func (s *Server) pageBadge(w http.ResponseWriter, r *http.Request, _ *call) error {
	e, ok := s.badgeStatus(w, r)
	if !ok {
		return nil
	}
	writeBadge(w, badgeSVG(e.view.Title, stateWord(e.view.Overall), badgeColours[e.view.Overall]))
	return nil
}

// monitorBadge is /badge/PAGE/DEVICE/MONITOR/status.svg or
// …/uptime-30d.svg: a monitor of a public page.
func (s *Server) monitorBadge(w http.ResponseWriter, r *http.Request, _ *call) error {
	kind := r.PathValue("badge")
	if kind != "status.svg" && kind != "uptime-30d.svg" {
		return s.statusFail(w, r, store.ErrNotFound)
	}
	e, ok := s.badgeStatus(w, r)
	if !ok {
		return nil
	}
	dev, mon := r.PathValue("device"), r.PathValue("monitor")
	for _, row := range e.view.Rows {
		if row.Device != dev || row.Name != mon {
			continue
		}
		if kind == "status.svg" {
			writeBadge(w, badgeSVG(row.Name, stateWord(row.State), badgeColours[row.State]))
			return nil
		}
		pct, ok := report.Percent(row.month)
		colour := badgeColours[stateUnknown]
		switch {
		case !ok:
		case pct >= 99.9:
			colour = badgeColours[state.Up]
		case pct >= 99:
			colour = badgeColours[state.Warn]
		default:
			colour = badgeColours[state.Down]
		}
		writeBadge(w, badgeSVG(row.Name+" 30d", uptime(row.month), colour))
		return nil
	}
	return s.statusFail(w, r, store.ErrNotFound)
}
