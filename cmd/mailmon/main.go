// Command mailmon monitors mail services: SMTP, POP3 and IMAP, and the
// journey of a message through them.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	// Time zones built in: schedules name IANA zones, and a host or
	// container without tzdata still reads them.
	_ "time/tzdata"

	"golang.org/x/term"

	"github.com/mailmon/mailmon/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := cli.Env{
		Stdin:          os.Stdin,
		Stdout:         os.Stdout,
		Stderr:         os.Stderr,
		Getenv:         os.Getenv,
		IsTerminal:     isTerminal(os.Stderr),
		StdoutTerminal: isTerminal(os.Stdout),
	}
	if term.IsTerminal(int(os.Stdin.Fd())) {
		env.ReadPassword = func(prompt string) (string, error) {
			fmt.Fprint(os.Stderr, prompt)
			b, err := term.ReadPassword(int(os.Stdin.Fd()))
			fmt.Fprintln(os.Stderr)
			return string(b), err
		}
	}
	code := cli.Main(ctx, os.Args[1:], env)
	stop()
	os.Exit(code)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
