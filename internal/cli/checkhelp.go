package cli

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
)

const checkExitCodes = "Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad usage or configuration).\n"

// checkHelp is "mailmon check --help" (k nil: the types and every flag)
// or "mailmon check TYPE --help": the type's flags only, with its
// defaults.
func checkHelp(w io.Writer, fs *flag.FlagSet, k *probe.Kind) {
	if k == nil {
		fmt.Fprint(w, "usage: mailmon check TYPE --host HOST [flags]\n\nTests one service now and prints the outcome (--output nagios, json or text).\n\nTYPE is one of:\n")
		for _, k := range kinds.All() {
			fmt.Fprintf(w, "  %-16s %s\n", k.Name, k.Summary)
		}
		fmt.Fprint(w, "\n\"mailmon help check TYPE\" shows a type's own flags and defaults.\n\nflags:\n")
		printFlags(w, fs, nil, map[string]string{"timeout": timeoutDefaults()})
		fmt.Fprint(w, "\n"+checkExitCodes)
		return
	}
	fmt.Fprintf(w, "usage: mailmon check %s --host HOST [flags]\n\n%s: %s\n\n", k.Name, k.Title, k.Summary)
	switch {
	case !k.HasPort:
		fmt.Fprint(w, "Port: none (it tests the host).\n")
	case k.Ports == (probe.Ports{}):
		fmt.Fprint(w, "Port: --port is required.\n")
	case k.KnowsTLS:
		fmt.Fprintf(w, "Port: %d by default, %d with --tls implicit.\n", k.Ports.Plain, k.Ports.Implicit)
	default:
		fmt.Fprintf(w, "Port: %d by default.\n", k.Ports.Plain)
	}
	fmt.Fprintf(w, "Timeout: %v by default (--timeout).\n", k.DefaultTimeout())
	if k.RoundTrip {
		fmt.Fprint(w, "The SMTP leg goes to --smtp-host (default --host); the probe is sent from --from to --to\n(default --user) and looked for in the mailbox.\n")
	}
	fmt.Fprint(w, "\nflags:\n")
	printFlags(w, fs, func(name string) bool { return checkFlagShown(*k, name) },
		map[string]string{"timeout": k.DefaultTimeout().String()})
	fmt.Fprintf(w, "\nIn a configuration file (docs/configuration.md) the same settings are keys of a\nmonitor of type: %s, each flag's name with _ for -.\n\n%s", k.Name, checkExitCodes)
}

// checkFlagShown says whether a flag of check applies to monitor type k.
func checkFlagShown(k probe.Kind, name string) bool {
	switch name {
	case "port":
		return k.HasPort
	case "tls", "ca", "servername", "insecure-skip-verify", "cert-warn-days":
		return k.KnowsTLS
	case "user", "password-file", "password-env", "auth", "oauth-token-file", "oauth-token-command", "allow-plaintext-auth":
		return k.LogsIn
	case "ehlo":
		return k.Shows("ehlo") || k.RoundTrip // the SMTP leg says EHLO too
	case "mailbox", "mailbox-check":
		return k.Shows("mailbox")
	case "stat", "expect":
		return k.Shows(name)
	case "from", "to", "name", "secret-file", "poll-interval", "stale-after":
		return k.RoundTrip
	}
	if strings.HasPrefix(name, "smtp-") {
		return k.RoundTrip
	}
	return true // host, timeout, warn, output
}

// unknownType says a type is not one, with the nearest.
func unknownType(env Env, typ string) int {
	return errorf(env, "check: unknown type %q%s (known: %s)", typ, config.DidYouMean(typ, checkTypes()), strings.Join(checkTypes(), ", "))
}

// timeoutDefaults says each type's default timeout, the most common
// first: "10s; imap-roundtrip, pop3-roundtrip 1m0s".
func timeoutDefaults() string {
	byTimeout := map[time.Duration][]string{}
	var order []time.Duration
	for _, k := range kinds.All() {
		d := k.DefaultTimeout()
		if byTimeout[d] == nil {
			order = append(order, d)
		}
		byTimeout[d] = append(byTimeout[d], k.Name)
	}
	slices.SortStableFunc(order, func(a, b time.Duration) int { return len(byTimeout[b]) - len(byTimeout[a]) })
	parts := []string{order[0].String()}
	for _, d := range order[1:] {
		parts = append(parts, strings.Join(byTimeout[d], ", ")+" "+d.String())
	}
	return strings.Join(parts, "; ")
}
