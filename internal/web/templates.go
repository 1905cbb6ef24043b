package web

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/version"
)

var pageNames = []string{"error", "login", "password", "board", "devices", "device", "typepick", "monitorform", "monitor", "reports", "alerts", "credentials", "users", "tokens", "audit", "twofactor", "logincode", "statuspage", "statuspages"}

func parsePages() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, n := range pageNames {
		out[n] = template.Must(template.New(n).Funcs(funcs).ParseFS(templateFS,
			"templates/layout.html", "templates/parts.html", "templates/alerting.html", "templates/"+n+".html"))
	}
	return out
}

// States are told by text and icon as well as colour.
var stateIcons = map[state.State]string{
	state.Up: "✔", state.Warn: "▲", state.Down: "✖", state.Lost: "⊘",
	state.Pending: "…", state.Disabled: "■", state.Maintenance: "⚒",
}

func stateIcon(v any) string {
	s := state.State(fmt.Sprint(v))
	if i, ok := stateIcons[s]; ok {
		return i
	}
	return "?"
}

func stateLabel(v any) string {
	s := fmt.Sprint(v)
	if s == "" {
		return "Pending"
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

func fmtMS(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.2f ms", v)
}

// fmtDur is a duration for people: 0, 850 ms, 12 s, 3m20s, 2h5m.
func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.0f s", d.Seconds())
	}
	return strings.TrimSuffix(d.Round(time.Second).String(), "0s")
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

var funcs = template.FuncMap{
	"stateIcon":      stateIcon,
	"stateLabel":     stateLabel,
	"ms":             fmtMS,
	"when":           when,
	"iso":            func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"maintenanceFor": func() any { return maintenanceFor },
	"dur":            fmtDur,
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	"join":    strings.Join,
	"split":   strings.Fields,
	"version": version.String,
	"beats":   func() int { return Beats },
}
