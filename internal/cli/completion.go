package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mailmon/mailmon/internal/plugin"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
)

// shells are the shells "mailmon completion" writes a script for.
var shells = []string{"bash", "zsh", "fish"}

// Completion is "mailmon completion bash|zsh|fish": a script that
// completes the commands, their subcommands and monitor types, their
// flags and the flags' values. The flags are read from the commands
// themselves (Env.describe), so the script never lists one that is gone.
func Completion(ctx context.Context, args []string, env Env) int {
	if len(args) == 1 && isHelp(args[0]) {
		return Help(ctx, []string{"completion"}, env)
	}
	if len(args) != 1 || !slices.Contains(shells, args[0]) {
		return errorf(env, "completion: usage: mailmon completion bash|zsh|fish")
	}
	ctxs := completionContexts(ctx)
	switch args[0] {
	case "bash":
		writeBash(env.Stdout, ctxs)
	case "zsh":
		// zsh runs bash's completion functions through bashcompinit.
		fmt.Fprint(env.Stdout, "#compdef mailmon\n# zsh completion for mailmon: source <(mailmon completion zsh) after compinit, or save it as _mailmon in a directory of $fpath\nautoload -U +X bashcompinit && bashcompinit\n")
		writeBash(env.Stdout, ctxs)
		// Autoloaded from $fpath (a file _mailmon), this script is the body
		// of the function _mailmon, run at the first TAB: it completes then
		// too, not from the second TAB on.
		fmt.Fprint(env.Stdout, "[[ ${funcstack[1]} == _mailmon ]] && _bash_complete -F _mailmon\n")
	case "fish":
		writeFish(env.Stdout, ctxs)
	}
	return ExitOK
}

// compContext is where on the command line completion stands: a command,
// or check with a type; the words it takes next, and its flags.
type compContext struct {
	cmd, typ string
	args     []string
	summary  string
	flags    []compFlag
}

type compFlag struct {
	name, usage string
	arg         string   // "" for a switch, FILE for a path
	values      []string // the values it takes, if a few
}

func completionContexts(ctx context.Context) []compContext {
	var out []compContext
	flagsOf := func(args ...string) []*flag.Flag {
		var fl []*flag.Flag
		env := Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" },
			describe: func(fs *flag.FlagSet) { fs.VisitAll(func(f *flag.Flag) { fl = append(fl, f) }) }}
		Main(ctx, args, env)
		return fl
	}
	for _, c := range commands {
		cc := compContext{cmd: c.name, args: c.subs, summary: summary(c)}
		switch c.name {
		case "help":
			cc.args = commandNames()
		case "completion": // no flags, and describing it would recurse
		case "check": // package plugin's options, by type
			cc.args = checkTypes()
			for _, k := range kinds.All() {
				kc := compContext{cmd: "check", typ: k.Name}
				for _, o := range plugin.Options(k) {
					arg := o.Arg
					if strings.HasPrefix(arg, "FILE") {
						arg = "FILE"
					}
					kc.flags = append(kc.flags, compFlag{name: o.Long, usage: o.Help, arg: arg, values: flagValues("check", o.Long)})
				}
				out = append(out, kc)
			}
		default:
			args := []string{c.name}
			if len(c.subs) > 0 {
				args = append(args, c.subs[0])
			}
			for _, f := range flagsOf(args...) {
				cc.flags = append(cc.flags, compFlagOf(c.name, f))
			}
		}
		out = append(out, cc)
	}
	return out
}

func summary(c command) string {
	if c.about == "" {
		return c.usage
	}
	// The first sentence: a dot that ends one is followed by a space (or
	// ends the text), unlike one in a path or a name.
	first, _, _ := strings.Cut(strings.Join(strings.Fields(c.about), " ")+" ", ". ")
	return strings.TrimSuffix(strings.TrimSpace(first), ".")
}

// compFlagOf is a flag as completion offers it, with its values.
func compFlagOf(cmd string, f *flag.Flag) compFlag {
	arg, use := flagArg(f)
	return compFlag{name: f.Name, usage: strings.Join(strings.Fields(use), " "), arg: arg, values: flagValues(cmd, f.Name)}
}

// flagValues are the values of a flag that takes one of a few.
func flagValues(cmd, name string) []string {
	switch name {
	case "tls", "smtp-tls":
		var out []string
		for _, m := range probe.TLSModes() {
			out = append(out, string(m))
		}
		return out
	case "auth", "smtp-auth":
		return []string{"auto", "PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER", "USER", "APOP"}
	case "mailbox-check":
		return []string{"status", "select"}
	case "output":
		return map[string][]string{"check": {"nagios", "json", "text"}, "discover": {"table", "json", "yaml"}, "version": {"text", "json"}}[cmd]
	}
	return nil
}

func (c compContext) key() string {
	if c.typ != "" {
		return c.cmd + ":" + c.typ
	}
	return c.cmd
}

func writeBash(w io.Writer, ctxs []compContext) {
	var top []string
	for _, c := range ctxs {
		if c.typ == "" {
			top = append(top, c.cmd)
		}
	}
	fmt.Fprintf(w, `# bash completion for mailmon: source <(mailmon completion bash)
_mailmon() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
    local cmd="${COMP_WORDS[1]}" key="${COMP_WORDS[1]}" args="" flags=""
    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W "%s --help --version" -- "$cur"))
        return
    fi
    [[ $cmd == check && $COMP_CWORD -gt 2 ]] && key="check:${COMP_WORDS[2]}"
    if [[ $cmd == help && $COMP_CWORD -eq 3 && ${COMP_WORDS[2]} == check ]]; then
        COMPREPLY=($(compgen -W "%s" -- "$cur"))
        return
    fi
    case "$key" in
`, strings.Join(top, " "), strings.Join(checkTypes(), " "))
	for _, c := range ctxs {
		var names, files, takes []string
		values := map[string][]string{}
		for _, f := range c.flags {
			names = append(names, dashes(f.name))
			switch {
			case len(f.values) > 0:
				values[dashes(f.name)] = f.values
			case strings.HasPrefix(f.arg, "FILE"):
				files = append(files, dashes(f.name))
			case f.arg != "":
				takes = append(takes, dashes(f.name))
			}
		}
		fmt.Fprintf(w, "    %s)\n        args=%q\n        flags=%q\n        case \"$prev\" in\n", c.key(), strings.Join(c.args, " "), strings.Join(names, " "))
		for _, f := range c.flags {
			if v := values[dashes(f.name)]; v != nil {
				fmt.Fprintf(w, "            %s) COMPREPLY=($(compgen -W %q -- \"$cur\")); return ;;\n", dashes(f.name), strings.Join(v, " "))
			}
		}
		if len(files) > 0 {
			fmt.Fprintf(w, "            %s) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n", strings.Join(files, "|"))
		}
		if len(takes) > 0 {
			fmt.Fprintf(w, "            %s) COMPREPLY=(); return ;;\n", strings.Join(takes, "|"))
		}
		fmt.Fprint(w, "        esac ;;\n")
	}
	fmt.Fprint(w, `    esac
    if [[ $COMP_CWORD -eq 2 && -n $args && $cur != -* ]]; then
        COMPREPLY=($(compgen -W "$args" -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -W "$flags --help" -- "$cur"))
}
complete -F _mailmon mailmon
`)
}

func writeFish(w io.Writer, ctxs []compContext) {
	// __mailmon_after WORD…: the command line is "mailmon WORD…", the
	// next word an argument (a subcommand, a type, a command for help);
	// "seen anywhere" would not do, as help's arguments include help.
	fmt.Fprint(w, `# fish completion for mailmon: mailmon completion fish > ~/.config/fish/completions/mailmon.fish
complete -c mailmon -f
function __mailmon_after
    set -l words (commandline -opc)
    test "$words[2..-1]" = "$argv"
end
`)
	fmt.Fprintf(w, "complete -c mailmon -n '__mailmon_after help check' -a %s\n", fishQuote(strings.Join(checkTypes(), " ")))
	types := strings.Join(checkTypes(), " ")
	for _, c := range ctxs {
		if c.typ == "" {
			fmt.Fprintf(w, "complete -c mailmon -n __fish_use_subcommand -a %s -d %s\n", c.cmd, fishQuote(c.summary))
			if len(c.args) > 0 {
				fmt.Fprintf(w, "complete -c mailmon -n '__mailmon_after %s' -a %s\n", c.cmd, fishQuote(strings.Join(c.args, " ")))
			}
		}
		cond := "__fish_seen_subcommand_from " + c.cmd
		if c.cmd == "check" {
			cond = "__fish_seen_subcommand_from check; and __fish_seen_subcommand_from " + c.typ
			if c.typ == "" {
				cond = "__fish_seen_subcommand_from check; and not __fish_seen_subcommand_from " + types
			}
		}
		for _, f := range c.flags {
			opt := "-l"
			if len(f.name) == 1 {
				opt = "-s"
			}
			fmt.Fprintf(w, "complete -c mailmon -n '%s' %s %s -d %s", cond, opt, f.name, fishQuote(f.usage))
			switch {
			case len(f.values) > 0:
				fmt.Fprintf(w, " -x -a %s", fishQuote(strings.Join(f.values, " ")))
			case strings.HasPrefix(f.arg, "FILE"):
				fmt.Fprint(w, " -r -F")
			case f.arg != "":
				fmt.Fprint(w, " -x")
			}
			fmt.Fprintln(w)
		}
	}
}

// fishQuote quotes s for fish, in single quotes.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
