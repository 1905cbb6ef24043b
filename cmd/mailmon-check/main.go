// Command mailmon-check is "mailmon check" alone, for monitoring systems
// that start a process per check (Nagios, Naemon, Icinga 2, Checkmk,
// Zabbix): "mailmon-check smtp -H HOST -p PORT -w 2 -c 5 -D 30,14 -S" takes
// what "mailmon check smtp …" takes (one implementation: internal/plugin),
// but links no part of the daemon, so that a check does not pay for its
// packages at start-up (docs/plugin.md has the figures). internal/layers
// holds it to that.
//
// It checks the mail types itself (smtp, pop3, imap, tcp), with every TLS
// and login form but a token fetched from an OAuth endpoint, and links no
// HTTP or DNS client for them; the other types, and those checks, it hands
// to "mailmon check" (handover.go).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mailmon/mailmon/internal/plugin"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/imapprobe"
	"github.com/mailmon/mailmon/internal/probe/pop3probe"
	"github.com/mailmon/mailmon/internal/probe/smtpprobe"
	"github.com/mailmon/mailmon/internal/probe/tcpprobe"
)

// handedOver are the types "mailmon check" runs for mailmon-check: Graph
// and the OAuth endpoints (HTTP), the domain types (DNS), the round trips
// (their package holds Graph's) and ping (raw ICMP). A test holds the
// list to the registry's.
var handedOver = []string{"ping", "pop3-roundtrip", "imap-roundtrip", "graph", "graph-roundtrip",
	"dnsbl", "spf", "dmarc", "dkim", "tls-rpt", "mta-sts", "rdns", "dane"}

func main() {
	plugin.Register([]probe.Kind{smtpprobe.Kind(), pop3probe.Kind(), imapprobe.Kind(), tcpprobe.Kind()},
		handedOver, handOver)
	ctx, stop := context.Background(), func() {}
	if plugin.Interruptible(os.Args[1:]) {
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	}
	code := plugin.Check(ctx, os.Args[1:], plugin.Env{
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		Getenv:     os.Getenv,
		IsTerminal: isTerminal(os.Stderr),
		Prog:       "mailmon-check",
	})
	stop()
	os.Exit(code)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
