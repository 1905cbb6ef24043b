// Package probers names every monitor type's prober: the table from a type
// name to the function that tests it.
package probers

import (
	"sort"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/imapprobe"
	"github.com/mailmon/mailmon/internal/probe/pingprobe"
	"github.com/mailmon/mailmon/internal/probe/pop3probe"
	"github.com/mailmon/mailmon/internal/probe/roundtrip"
	"github.com/mailmon/mailmon/internal/probe/smtpprobe"
	"github.com/mailmon/mailmon/internal/probe/tcpprobe"
)

func table() map[string]probe.Prober {
	return map[string]probe.Prober{
		"smtp": smtpprobe.Probe,
		"pop3": pop3probe.Probe,
		"imap": imapprobe.Probe,

		"pop3-roundtrip": roundtrip.ProbePOP3,
		"imap-roundtrip": roundtrip.ProbeIMAP,
		"tcp":            tcpprobe.Probe,
		"ping":           pingprobe.Probe,
	}
}

// Get returns the prober of a monitor type.
func Get(typ string) (probe.Prober, bool) {
	p, ok := table()[typ]
	return p, ok
}

// Types lists the monitor types, sorted.
func Types() []string {
	var out []string
	for k := range table() {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
