package plugin

import (
	"fmt"
	"strings"
)

// help is the text of -h: what the plug-in does, its options by group
// with their short and long names, and the exit codes.
func help(prog string, opts []option) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s TYPE -H HOST [options]\n\n", prog)
	fmt.Fprintf(&b, "Tests one mail service now, as a monitoring plug-in: TYPE is one of %s.\n", strings.Join(checkTypes(), ", "))
	b.WriteString("Options take a value as -p 25, --port 25 or --port=25.\n")
	group := ""
	for _, o := range opts {
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
		fmt.Fprintf(&b, "%s\n    %s\n", head, o.help)
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
