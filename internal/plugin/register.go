package plugin

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mailmon/mailmon/internal/probe"
)

// registry is what Register said: the monitor types this binary checks
// itself, and where the others go.
var registry struct {
	kinds     []probe.Kind
	elsewhere []string
	handOver  func(args []string) error
}

// Register says which monitor types this binary checks (mailmon: every
// type, kinds.All(); mailmon-check: the mail types, so that it links no
// HTTP or DNS client), before Check runs. The types named in elsewhere,
// and any check that fetches its token from an OAuth endpoint where this
// binary cannot (oauth.CanFetch), go to handOver with the whole arguments
// (TYPE first): mailmon-check runs "mailmon check" in its place, and
// handOver returns only when it could not.
func Register(kinds []probe.Kind, elsewhere []string, handOver func(args []string) error) {
	registry.kinds, registry.elsewhere, registry.handOver = kinds, elsewhere, handOver
}

// lookup finds a type this binary checks.
func lookup(name string) (probe.Kind, bool) {
	for _, k := range registry.kinds {
		if k.Name == name {
			return k, true
		}
	}
	return probe.Kind{}, false
}

// handedOver reports whether typ is checked elsewhere.
func handedOver(typ string) bool {
	return registry.handOver != nil && slices.Contains(registry.elsewhere, strings.ToLower(typ))
}

// handOver runs the check elsewhere; when that fails, the check is
// UNKNOWN with why.
func handOver(env Env, typ string, args []string) int {
	err := registry.handOver(args)
	fmt.Fprintf(env.Stdout, "%s UNKNOWN - %s\n", strings.ToUpper(typ), ascii(err.Error()))
	return Unknown
}
