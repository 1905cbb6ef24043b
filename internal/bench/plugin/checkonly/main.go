// Command checkonly is "mailmon check" built alone: package plugin under a
// main of its own, without the daemon's packages. It is never shipped; the
// plug-in benchmark measures it beside mailmon to show what of a check's
// cost is mailmon's start-up (the packages of the daemon, linked and
// initialised in every process) and what is the check's own.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/mailmon/mailmon/internal/plugin"
)

func main() {
	args := os.Args[1:]
	if len(args) == 0 || args[0] != "check" {
		fmt.Println("MAILMON UNKNOWN - usage: checkonly check TYPE [options]")
		os.Exit(plugin.Unknown)
	}
	os.Exit(plugin.Check(context.Background(), args[1:], plugin.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}))
}
