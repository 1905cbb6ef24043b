// Command mailmon monitors mail services: SMTP, POP3 and IMAP, and the
// journey of a message through them.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mailmon/mailmon/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.Env{
		Stdin:          os.Stdin,
		Stdout:         os.Stdout,
		Stderr:         os.Stderr,
		Getenv:         os.Getenv,
		IsTerminal:     isTerminal(os.Stderr),
		StdoutTerminal: isTerminal(os.Stdout),
	})
	stop()
	os.Exit(code)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
