// Command mailmon-check is "mailmon check" alone, for monitoring systems
// that start a process per check (Nagios, Naemon, Icinga 2, Checkmk,
// Zabbix): "mailmon-check smtp -H HOST -p PORT -w 2 -c 5 -D 30,14 -S" takes
// what "mailmon check smtp …" takes (one implementation: internal/plugin),
// but links no part of the daemon, so that a check does not pay for its
// packages at start-up (docs/plugin.md has the figures). internal/layers
// holds it to that.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mailmon/mailmon/internal/plugin"
)

func main() {
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
