package plugin

import (
	"fmt"
	"strings"

	"github.com/mailmon/mailmon/internal/probe"
)

// help is the text of -h: what the plug-in does, its options by group
// with their short and long names, and the exit codes. For a type (k not
// nil): what the type does, its port and timeout, and its options only.
func help(prog string, opts []option, k *probe.Kind) string {
	var b strings.Builder
	if k == nil {
		fmt.Fprintf(&b, "Usage: %s TYPE -H HOST [options]\n\n", prog)
		fmt.Fprintf(&b, "Tests one mail service now, as a monitoring plug-in: TYPE is one of %s.\n", strings.Join(checkTypes(), ", "))
		fmt.Fprintf(&b, "\"%s TYPE --help\" (or \"mailmon help check TYPE\") shows a type's own options and defaults.\n", prog)
		if prog == "mailmon check" {
			b.WriteString("\"mailmon-check TYPE [options]\" is the same check as a program of its own, which links\n" +
				"none of the daemon: cheaper to start, for monitoring systems that start a process\n" +
				"per check (Nagios, Naemon, Icinga 2, Checkmk, Zabbix; docs/plugin.md).\n")
		}
	} else {
		fmt.Fprintf(&b, "Usage: %s %s -H HOST [options]\n\n%s\n", prog, k.Name, typeHelp(*k))
	}
	b.WriteString("Options take a value as -p 25, --port 25 or --port=25.\n")
	group := ""
	for _, o := range opts {
		if k != nil && !Applies(*k, o.long) {
			continue
		}
		if o.group != group {
			group = o.group
			fmt.Fprintf(&b, "\n%s:\n", strings.ToUpper(group[:1])+group[1:])
		}
		var names []string
		if o.short != "" {
			names = append(names, "-"+o.short)
		}
		for _, n := range append([]string{o.long}, o.aliases...) {
			names = append(names, "--"+n)
		}
		head := " " + strings.Join(names, ", ")
		if o.arg != "" {
			head += " " + o.arg
		}
		fmt.Fprintf(&b, "%s\n    %s\n", head, o.text())
	}
	b.WriteString(`
Output: one status line, "TYPE STATE - what happened", then "|" and perfdata:
time (the whole test), delivery (round trips), every phase in seconds, and
cert_days_left, each with its warning and critical thresholds. A password is
never taken from the command line, and never printed.

Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad usage or
configuration; also -h and -V).
`)
	return b.String()
}
