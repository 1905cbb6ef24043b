package probe

import (
	"strings"
	"time"
)

// SplitList reads a comma-separated list (of a record's tag, or of a
// setting on the command line or in the web form), without empty items.
func SplitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Round-trip defaults of the settings that are not the deadline (the
// round-trip types' own, package roundtrip).
const (
	DefaultPollInterval = 2 * time.Second
	DefaultStaleAfter   = time.Hour
)
