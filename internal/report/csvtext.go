package report

import (
	"strings"

	"github.com/mailmon/mailmon/internal/wire"
)

// csvText makes a text cell of the CSV (a device's or a monitor's name)
// safe to open in a spreadsheet: a cell that starts with = + - @, a tab
// or a carriage return would be read as a formula (OWASP's CSV
// injection), so it gets a leading apostrophe, which spreadsheets take as
// "this is text"; and a control or text-direction character shows as
// U+FFFD. The numeric cells are written by the report itself and never
// pass here: they stay numbers, and a negative one would stay negative.
func csvText(s string) string {
	s = wire.Sanitize(s)
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
