package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/plugin"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
)

// command is one of mailmon's commands, as help and completion show it.
type command struct {
	name  string
	usage string   // the usage line(s)
	about string   // what it does, a paragraph or two
	subs  []string // its subcommands (token create, …)
}

// commands are the commands, in the order the top-level help shows them.
// check and discover print their own longer help.
var commands = []command{
	{name: "check", usage: "mailmon check TYPE [flags]"},
	{name: "discover", usage: "mailmon discover HOST|DOMAIN [flags]"},
	{name: "serve", usage: "mailmon serve [flags]", about: `The daemon: tests the monitors on their schedule, delivers their alerts,
and serves the web UI, the JSON API and /metrics on --listen. Several
nodes on one PostgreSQL database (--db postgres://…) share the monitors.
--demo adds a loopback mail server with ready-made monitors.`},
	{name: "apply", usage: "mailmon apply -f FILE.yaml|- [flags]", about: `Creates or updates credentials, alerts, devices and monitors by name
from a YAML file (docs/configuration.md; docs/mail.yaml is an example
of every monitor type and alert kind). Every problem of the file is
reported at once, each with its line, column and path, before anything
is written. Secrets are {env: VAR}, {file: PATH} or a literal string.`},
	{name: "export", usage: "mailmon export [flags] > FILE.yaml", about: `Writes the configuration as YAML to standard output, by name. Each
secret is a placeholder, {env: MAILMON_SECRET_…}, listed in a comment
at the top: applied to the same database, an unset one keeps the stored
secret; to a new database, set the variables first.`},
	{name: "backup", usage: "mailmon backup [--db FILE] BACKUP", about: `A consistent copy of a SQLite database, written to BACKUP and its
integrity checked, whether a daemon runs on it or not. The storage key
is not in the copy: keep it with it. PostgreSQL: pg_dump (docs/operations.md).`},
	{name: "restore", usage: "mailmon restore [--db FILE] BACKUP", about: `Puts a backup made by mailmon backup in place of the SQLite database,
which no daemon may have open; the database it replaces is kept beside it.`},
	{name: "oauth", usage: "mailmon oauth login --provider microsoft|google [--tenant T] --client-id ID [--monitor DEVICE/NAME] [flags]", subs: []string{"login"},
		about: `Signs in to a Microsoft 365 or Google mailbox with the device-code flow
(a code to enter in a browser anywhere) and prints the refresh token
for the YAML's oauth.refresh_token, or stores it, sealed, for --monitor
(docs/cloud-mailboxes.md).`},
	{name: "key", usage: "mailmon key rotate [flags]", subs: []string{"rotate"}},
	{name: "token", usage: "mailmon token create --name N | list | delete --name N [flags]", subs: []string{"create", "list", "delete"},
		about: `API bearer tokens: create prints a new one, once (only its hash is
kept); list shows each token's name, creation and last use; delete
removes one.`},
	{name: "user", usage: "mailmon user add NAME | passwd NAME | list | delete NAME [flags]", subs: []string{"add", "passwd", "list", "delete"},
		about: `Web UI logins. add and passwd read the password from the terminal
without echo, or from the first line of standard input.`},
	{name: "version", usage: "mailmon version [--output text|json]   (also: mailmon --version, mailmon -v)",
		about: `The version, its commit and date, and the Go that built it.`},
	{name: "completion", usage: "mailmon completion bash|zsh|fish", subs: shells, about: `Prints a completion script for the shell, of the commands, monitor
types, flags and their values:

  bash: source <(mailmon completion bash)    (or into /etc/bash_completion.d/mailmon)
  zsh:  source <(mailmon completion zsh)
  fish: mailmon completion fish > ~/.config/fish/completions/mailmon.fish`},
	{name: "help", usage: "mailmon help [COMMAND [TYPE]]", about: `Help for a command (mailmon help serve), or for a monitor type of
check with its defaults (mailmon help check imap). CMD --help says
the same.`},
}

func lookupCommand(name string) (command, bool) {
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == name })
	if i < 0 {
		return command{}, false
	}
	return commands[i], true
}

func commandNames() []string {
	var out []string
	for _, c := range commands {
		out = append(out, c.name)
	}
	return out
}

// isHelp says whether an argument asks for help.
func isHelp(arg string) bool { return arg == "-h" || arg == "--help" || arg == "-help" }

// Help is "mailmon help [COMMAND [TYPE]]": a command's help is what
// "COMMAND --help" prints.
func Help(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stdout, usage())
		return ExitOK
	}
	if _, ok := lookupCommand(args[0]); !ok {
		return unknownCommand(env, args[0])
	}
	switch args[0] {
	case "help", "completion":
		c, _ := lookupCommand(args[0])
		fmt.Fprintf(env.Stdout, "usage: %s\n\n%s\n", c.usage, c.about)
		return ExitOK
	case "check":
		// A plug-in's --help exits 3 (UNKNOWN), as the guidelines ask;
		// asked for by name, help is a success.
		if len(args) > 1 {
			if _, ok := kinds.Lookup(strings.ToLower(args[1])); !ok {
				return Main(ctx, args, env) // says it is not a type
			}
		}
		Main(ctx, append(slices.Clone(args), "--help"), env)
		return ExitOK
	}
	return Main(ctx, append(slices.Clone(args), "--help"), env)
}

// checkTypes are the monitor types, sorted.
func checkTypes() []string { return slices.Sorted(slices.Values(kinds.Names())) }

// unknownCommand says so, with the nearest command.
func unknownCommand(env Env, name string) int {
	return errorf(env, "unknown command %q%s (\"mailmon help\" lists the commands)", name, probe.DidYouMean(name, commandNames()))
}

// parseFlags parses a command's flags. It prints the command's help to
// stdout for -h or --help (help, if not nil, prints it; else the
// command's entry in commands and its flags), and for a flag it does not
// know, the nearest one or what to use instead; done is true when the
// command is to return code without running. Env.describe, set by
// completion, gets the flags instead.
func parseFlags(fs *flag.FlagSet, args []string, env Env, help func(w io.Writer)) (code int, done bool) {
	if env.describe != nil {
		env.describe(fs)
		return ExitOK, true
	}
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	name := strings.TrimPrefix(fs.Name(), "mailmon ")
	err := fs.Parse(args)
	switch {
	case err == nil:
		return ExitOK, false
	case errors.Is(err, flag.ErrHelp):
		if help != nil {
			help(env.Stdout)
		} else {
			commandHelp(env.Stdout, fs)
		}
		return ExitOK, true
	}
	first, _, _ := strings.Cut(name, " ")
	return errorf(env, "%s: %s (\"mailmon help %s\" lists the flags)", name, flagError(err, fs), first), true
}

// flagError words a flag package error in the command line's own terms:
// flags with two dashes, the nearest flag for an unknown one.
func flagError(err error, fs *flag.FlagSet) string {
	msg := err.Error()
	if bad, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		bad = strings.TrimLeft(bad, "-")
		if hint := flagHint(bad, fs); hint != "" {
			return "unknown flag --" + bad + "; " + hint
		}
		return "unknown flag --" + bad
	}
	for _, p := range []string{"flag needs an argument: -", " for flag -"} {
		msg = strings.Replace(msg, p, p+"-", 1)
	}
	return msg
}

// flagHint is what to give instead of an unknown flag: a password is
// never taken on the command line; else the nearest flag.
func flagHint(bad string, fs *flag.FlagSet) string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	for _, pw := range []string{"password", "smtp-password"} {
		if bad == pw && slices.Contains(names, pw+"-file") {
			return fmt.Sprintf("did you mean --%s-file? (or --%s-env; a password on the command line would be readable by every user of this machine)", pw, pw)
		}
	}
	if s := probe.Suggest(bad, names); s != "" {
		return "did you mean --" + s + "?"
	}
	return ""
}

// commandHelp prints a command's entry in commands and its flags.
func commandHelp(w io.Writer, fs *flag.FlagSet) {
	name, _, _ := strings.Cut(strings.TrimPrefix(fs.Name(), "mailmon "), " ")
	c, _ := lookupCommand(name)
	fmt.Fprintf(w, "usage: %s\n\n", c.usage)
	if c.about != "" {
		fmt.Fprintf(w, "%s\n\n", c.about)
	}
	fmt.Fprintln(w, "flags:")
	printFlags(w, fs, nil, nil)
}

// printFlags lists the flags of fs that show says to (all when nil), each
// with its argument, usage and default; defaults overrides a flag's
// default as shown.
func printFlags(w io.Writer, fs *flag.FlagSet, show func(name string) bool, defaults map[string]string) {
	fs.VisitAll(func(f *flag.Flag) {
		if show != nil && !show(f.Name) {
			return
		}
		arg, use := flagArg(f)
		line := "  " + dashes(f.Name)
		if arg != "" {
			line += " " + arg
		}
		def, ok := defaults[f.Name]
		if !ok {
			def = f.DefValue
		}
		if def != "" && def != "0" && def != "false" && def != "0s" && def != "[]" {
			use += " (default " + def + ")"
		}
		fmt.Fprintf(w, "%s\n        %s\n", line, wrap(use, 70, 70, "        "))
	})
}

// flagArg is the word for a flag's argument ("" for a switch) and its
// usage without the backquotes that may name it.
func flagArg(f *flag.Flag) (arg, use string) {
	arg, use = flag.UnquoteUsage(f)
	switch f.Value.(type) {
	case *plugin.Seconds:
		return "DURATION", use
	case *egress.Items:
		return "LIST", use
	}
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return "", use
	}
	if _, ok := f.Value.(flag.Getter); ok {
		if _, isDur := f.Value.(flag.Getter).Get().(time.Duration); isDur {
			return "DURATION", use
		}
	}
	switch {
	case arg != "string":
	case f.Name == "db":
		return "FILE|URL", use
	case f.Name == "listen":
		return "ADDR", use
	case f.Name == "f" || f.Name == "ca" || strings.HasSuffix(f.Name, "-file") || strings.HasSuffix(f.Name, "-cert") || strings.HasSuffix(f.Name, "-key"):
		return "FILE", use
	case strings.HasSuffix(f.Name, "-env"):
		return "VAR", use
	case strings.HasSuffix(f.Name, "host"):
		return "HOST", use
	}
	switch arg {
	case "string":
		arg = "TEXT"
	case "int":
		arg = "N"
	case "value", "":
		arg = "VALUE"
	}
	return arg, use
}

// dashes is a flag as it is typed: -f, --db.
func dashes(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}
