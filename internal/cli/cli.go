// Package cli is mailmon's command line: it turns arguments into a
// configuration, runs it, and prints the outcome. cmd/mailmon only wires it
// to the process.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
)

// Exit codes of the Monitoring Plugins guidelines, used by every command.
const (
	ExitOK       = 0
	ExitWarning  = 1
	ExitCritical = 2
	ExitUnknown  = 3
)

// Env is what a command may touch of its process.
type Env struct {
	Stdin          io.Reader // apply -f - and passwords read it; nil: empty
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	IsTerminal     bool // stderr is a terminal (progress lines go there)
	StdoutTerminal bool // stdout is a terminal (colours are allowed)
	// ReadPassword reads a password from the terminal without echo; nil
	// when stdin is not a terminal, and Stdin's first line is read instead.
	ReadPassword func(prompt string) (string, error)

	// describe, set by completion, is handed each command's flags
	// instead of running it (parseFlags).
	describe func(fs *flag.FlagSet)
	// probers, set by tests, overrides discover's probers of the domain
	// (discover.Options.Probers).
	probers func(typ string) (probe.Prober, bool)
}

// usage is the command line's help, its check line listing the monitor
// types, wrapped to the width of the other lines.
func usage() string {
	const width, indent = 86, 35
	first := width - len("  mailmon check TYPE [flags]       test one service now (")
	return fmt.Sprintf(usageText, wrap(strings.Join(kinds.Names(), ", "), first, width-indent, strings.Repeat(" ", indent)))
}

const usageText = `mailmon: mail service monitoring

usage:
  mailmon check TYPE [flags]       test one service now (%s)
  mailmon discover HOST|DOMAIN [--ports LIST] [--output table|json|yaml]
                                   find a host's (or a domain's MX hosts') mail
                                   services, their TLS, auth and security verdict
  mailmon serve [--db FILE|postgres://…] [--listen ADDR] [--location L] [--lease 15s]
                                   the daemon: scheduler, alerts, JSON API; several
                                   nodes on one PostgreSQL share the monitors
  mailmon apply -f FILE.yaml|- [--db FILE]
                                   create or update devices, monitors and alerts
  mailmon export [--db FILE]       the configuration as YAML, without secrets
  mailmon backup [--db FILE] BACKUP
                                   a consistent copy of a SQLite database, the
                                   daemon running or not (PostgreSQL: pg_dump)
  mailmon restore [--db FILE] BACKUP
                                   put a backup back, the daemon stopped
  mailmon key rotate [--new-key-file FILE]
                                   seal every stored secret under a new storage key
  mailmon oauth login --provider microsoft|google --client-id ID [--monitor DEVICE/NAME]
                                   sign a mailbox in (device code) for its refresh token
  mailmon token create --name N [--scope read,write,probe,metrics] [--expires 90d]
                                   print a new API bearer token (also: list, delete)
  mailmon user add NAME [--role viewer|editor|admin]
                                   create a web UI login; the password is read from
                                   the terminal (or stdin); also: role NAME ROLE,
                                   passwd, 2fa-reset, list, delete (docs/teams.md)
  mailmon version [--output text|json]
                                   the version, its commit and date, and the Go
                                   that built it (also: --version, -v)
  mailmon completion bash|zsh|fish shell completion of commands, types and flags

Run "mailmon help COMMAND" (or "mailmon COMMAND --help") for a command's flags,
and "mailmon help check TYPE" for a monitor type's settings and defaults.
`

// Main runs the command in args (without the program name) and returns the
// process exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage())
		return ExitUnknown
	}
	switch args[0] {
	case "check":
		return Check(ctx, args[1:], env)
	case "discover":
		return Discover(ctx, args[1:], env)
	case "serve":
		return Serve(ctx, args[1:], env)
	case "token":
		return Token(ctx, args[1:], env)
	case "user":
		return User(ctx, args[1:], env)
	case "apply":
		return Apply(ctx, args[1:], env)
	case "export":
		return Export(ctx, args[1:], env)
	case "key":
		return Key(ctx, args[1:], env)
	case "backup":
		return Backup(ctx, args[1:], env)
	case "restore":
		return Restore(ctx, args[1:], env)
	case "oauth":
		return OAuth(ctx, args[1:], env)
	case "version", "--version", "-v":
		return Version(args[1:], env)
	case "completion":
		return Completion(ctx, args[1:], env)
	case "help":
		return Help(ctx, args[1:], env)
	case "-h", "--help", "-help":
		fmt.Fprint(env.Stdout, usage())
		return ExitOK
	}
	return unknownCommand(env, args[0])
}

// wrap breaks a list of words at the spaces so that its first line has
// room for first characters and the others for rest, each indented.
func wrap(s string, first, rest int, indent string) string {
	var b strings.Builder
	width, room := 0, first
	for i, w := range strings.Fields(s) {
		if i > 0 && width+1+len(w) > room {
			b.WriteString("\n" + indent)
			width, room = 0, rest
		} else if i > 0 {
			b.WriteByte(' ')
			width++
		}
		b.WriteString(w)
		width += len(w)
	}
	return b.String()
}

func errorf(env Env, format string, args ...any) int {
	fmt.Fprintf(env.Stderr, "mailmon: "+strings.TrimSuffix(format, "\n")+"\n", args...)
	return ExitUnknown
}
