// Package kinds is the registry of monitor types: one line per type, each
// the probe.Kind its prober package declares. Config validation, the CLI,
// the web form, the board, discovery and /probe all read the types from
// here; a new type is a prober package and a line below.
package kinds

import (
	// Every type's binary fetches OAuth tokens from endpoints too.
	_ "github.com/mailmon/mailmon/internal/oauth/endpoint"
	"slices"
	"sync"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/domainprobe"
	"github.com/mailmon/mailmon/internal/probe/graphprobe"
	"github.com/mailmon/mailmon/internal/probe/imapprobe"
	"github.com/mailmon/mailmon/internal/probe/pingprobe"
	"github.com/mailmon/mailmon/internal/probe/pop3probe"
	"github.com/mailmon/mailmon/internal/probe/roundtrip"
	"github.com/mailmon/mailmon/internal/probe/smtpprobe"
	"github.com/mailmon/mailmon/internal/probe/tcpprobe"
)

// table is the registry, one line per type, built once: a Kind's slices
// are shared by every reader and read-only.
var table = sync.OnceValue(func() []probe.Kind {
	return []probe.Kind{
		smtpprobe.Kind(),
		pop3probe.Kind(),
		imapprobe.Kind(),
		tcpprobe.Kind(),
		pingprobe.Kind(),
		roundtrip.POP3Kind(),
		roundtrip.IMAPKind(),
		graphprobe.Kind(),
		roundtrip.GraphKind(),
		domainprobe.DNSBLKind(),
		domainprobe.SPFKind(),
		domainprobe.DMARCKind(),
		domainprobe.DKIMKind(),
		domainprobe.TLSRPTKind(),
		domainprobe.MTASTSKind(),
		domainprobe.RDNSKind(),
		domainprobe.DANEKind(),
	}
})

// All lists the monitor types, in the order lists show them.
func All() []probe.Kind { return slices.Clone(table()) }

// Names lists the monitor types' names, in the order of All.
func Names() []string {
	var out []string
	for _, k := range table() {
		out = append(out, k.Name)
	}
	return out
}

// Lookup finds a monitor type by its name.
func Lookup(name string) (probe.Kind, bool) {
	for _, k := range table() {
		if k.Name == name {
			return k, true
		}
	}
	return probe.Kind{}, false
}

// Prober returns the prober of a monitor type.
func Prober(name string) (probe.Prober, bool) {
	k, ok := Lookup(name)
	return k.Probe, ok
}

// Validate validates cfg as the monitor type cfg.Type names.
func Validate(cfg *probe.Config) error {
	k, ok := Lookup(cfg.Type)
	if !ok {
		return &probe.ConfigError{Errs: []probe.FieldError{{Field: "type", Msg: "unknown type " + cfg.Type}}}
	}
	return cfg.Validate(k)
}

// RoundTrip reports whether a monitor type sends a probe message.
func RoundTrip(name string) bool {
	k, _ := Lookup(name)
	return k.RoundTrip
}

// DefaultPort is a monitor type's well-known port in a TLS mode; 0 when it
// has none.
func DefaultPort(name string, mode probe.TLSMode) int {
	k, _ := Lookup(name)
	return k.Port(mode)
}
