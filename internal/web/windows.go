package web

import (
	"strings"

	"github.com/mailmon/mailmon/internal/config"
)

// windowsText is maintenance windows as the forms' field shows them, one
// a line (template "windows" in parts.html).
func windowsText(ws []config.Window) string {
	lines := make([]string, 0, len(ws))
	for _, w := range ws {
		lines = append(lines, w.Text())
	}
	return strings.Join(lines, "\n")
}

// parseWindows reads the forms' field back; msg tells what is wrong with
// the lines it could not read ("" when none). Validation judges the rest.
func parseWindows(text string) (ws []config.Window, msg string) {
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		w, err := config.ParseWindowText(line)
		if err != nil {
			msg = err.Error()
		}
		ws = append(ws, w)
	}
	return ws, msg
}
