package config

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the zones named in a configuration load without the system's tzdata

	"github.com/mailmon/mailmon/internal/probe"
)

// LoadZone is the time zone an IANA name names ("": the daemon's local
// zone). A name that is none says so, with the nearest known name when
// one is close: unknown time zone "Europe/Berlyn"; did you mean
// "Europe/Berlin"?
func LoadZone(name string) (*time.Location, error) {
	if name == "" {
		return time.Local, nil
	}
	// "Local" would be the daemon's zone under another name, which differs
	// from node to node.
	if strings.EqualFold(name, "local") {
		return nil, fmt.Errorf("%q is not allowed: name the zone (like Europe/Berlin)", name)
	}
	if loc, err := time.LoadLocation(name); err == nil {
		return loc, nil
	}
	// A city alone ("Berlin") is the last part of its zone's name.
	for _, z := range zoneNames() {
		if i := strings.LastIndexByte(z, '/'); i >= 0 && strings.EqualFold(z[i+1:], name) {
			return nil, fmt.Errorf("unknown time zone %q; did you mean %q?", name, z)
		}
	}
	if hint := probe.DidYouMean(name, zoneNames()); hint != "" {
		return nil, fmt.Errorf("unknown time zone %q%s", name, hint)
	}
	return nil, fmt.Errorf("unknown time zone %q: give an IANA name such as Europe/Berlin or UTC", name)
}

// zones.txt lists the IANA names, for suggestions only.
//
//go:embed zones.txt
var zonesTxt string

var zoneNames = sync.OnceValue(func() []string {
	var out []string
	for l := range strings.Lines(zonesTxt) {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
})
