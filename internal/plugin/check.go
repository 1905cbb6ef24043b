// Package plugin is "mailmon check": one test of one service, now, as a
// monitoring plug-in runs it (Monitoring Plugins development guidelines,
// and what Nagios, Icinga 2, Naemon and Checkmk expect): short and long
// options, thresholds in the guidelines' range syntax, one ASCII status
// line, perfdata with the thresholds, exit codes 0-3, usage errors on
// stdout. "mailmon check" runs it, and "mailmon-check" (cmd/mailmon-check)
// runs it alone; it links no part of the daemon (internal/layers holds it
// to that).
package plugin

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/smtpprobe"
	"github.com/mailmon/mailmon/internal/version"
)

// Exit codes of the Monitoring Plugins guidelines.
const (
	OK       = 0
	Warning  = 1
	Critical = 2
	Unknown  = 3
)

// Env is what a check may touch of its process.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	IsTerminal     bool   // stderr is a terminal: a round trip shows its progress there
	Prog           string // how the command is called, for usage: "mailmon check"
}

// Check runs "mailmon check TYPE [options]" (args start with TYPE) and
// returns the exit code.
func Check(ctx context.Context, args []string, env Env) int {
	if env.Prog == "" {
		env.Prog = "mailmon check"
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return checkType(ctx, args[0], args[1:], env)
	}
	// No type: -h, -V or a mistake.
	var f flags
	fs := newFlagSet(&f)
	opts := f.register(fs)
	if err := fs.Parse(args); err == nil && (f.help || f.version) {
		if f.help {
			fmt.Fprint(env.Stdout, help(env.Prog, opts, nil))
		} else {
			fmt.Fprintln(env.Stdout, version.Get())
		}
		return Unknown
	}
	return usageError(env, "", "the monitor type is missing (one of "+strings.Join(checkTypes(), ", ")+")")
}

func checkType(ctx context.Context, typ string, args []string, env Env) int {
	var f flags
	fs := newFlagSet(&f)
	opts := f.register(fs)
	kind, ok := lookup(strings.ToLower(typ))
	if !ok && handedOver(typ) {
		return handOver(env, typ, append([]string{typ}, args...))
	}
	if !ok {
		return usageError(env, "", fmt.Sprintf("unknown type %q%s (known: %s)", typ, probe.DidYouMean(typ, checkTypes()), strings.Join(checkTypes(), ", ")))
	}
	typ = kind.Name
	if err := fs.Parse(args); err != nil {
		return usageError(env, typ, flagProblem(err.Error())+unknownOption(err, fs))
	}
	f.given(fs, opts)
	f.lower()
	switch {
	case f.help:
		fmt.Fprint(env.Stdout, help(env.Prog, opts, &kind))
		return Unknown
	case f.version:
		fmt.Fprintln(env.Stdout, version.Get())
		return Unknown
	case fs.NArg() > 0:
		return usageError(env, typ, fmt.Sprintf("unexpected argument %q (options start with -)", fs.Arg(0)))
	}
	if (f.oauth.set() || f.smtpOAuth.set()) && !oauth.CanFetch() && registry.handOver != nil {
		return handOver(env, typ, append([]string{typ}, args...))
	}
	out, err := newOutput(f.output, f.verbose)
	if err != nil {
		return usageError(env, typ, "--output: "+err.Error())
	}
	cfg, err := f.config(kind, env)
	if err != nil {
		return usageError(env, typ, err.Error())
	}
	if err := cfg.Validate(kind); err != nil {
		var ce *probe.ConfigError
		if !errors.As(err, &ce) {
			return usageError(env, typ, err.Error())
		}
		var msgs []string
		for _, fe := range ce.Errs {
			msgs = append(msgs, "--"+flagName(fe.Field)+": "+optionWords(fe.Msg))
		}
		return usageError(env, typ, strings.Join(msgs, "; "))
	}
	if kind.RoundTrip && env.IsTerminal {
		cfg.Progress = func(n int, elapsed time.Duration) {
			fmt.Fprintf(env.Stderr, "\rwaiting for the probe: attempt %d, %.1f s since it was sent ", n, elapsed.Seconds())
		}
		defer fmt.Fprint(env.Stderr, "\r\033[K")
	}
	r := probe.Run(ctx, kind, cfg)
	hints := f.hints(r)
	code, pd := f.judge(r)
	out(env.Stdout, r, pd)
	for _, h := range hints {
		fmt.Fprintln(env.Stderr, "mailmon: hint: "+h)
	}
	return code
}

func newFlagSet(f *flags) *flag.FlagSet {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // usageError says what is wrong, on stdout
	fs.Usage = func() {}
	return fs
}

// usageError prints the problem as a plug-in's UNKNOWN status line on
// stdout, where the monitoring system shows it, and the short usage.
func usageError(env Env, typ, msg string) int {
	label := "MAILMON"
	if typ != "" {
		label = strings.ToUpper(typ)
	}
	fmt.Fprintf(env.Stdout, "%s UNKNOWN - %s\nUsage: %s TYPE -H HOST [-p PORT] [-S] [-w RANGE] [-c RANGE] [-D WARN[,CRIT]] [-t SECONDS] [-v] ...\n"+
		"TYPE is one of %s; \"%s --help\" lists every option.\n",
		label, ascii(flagProblem(msg)), env.Prog, strings.Join(checkTypes(), ", "), env.Prog)
	return Unknown
}

// flagProblem says what the flag package found in the user's words: the
// option as it is written, then what is wrong with it.
func flagProblem(msg string) string {
	dash := func(name string) string {
		if len(name) > 1 {
			return "--" + name
		}
		return "-" + name
	}
	// invalid value "V" for flag -N: WHY, invalid boolean value "V" for -N: WHY
	for _, head := range []string{"invalid value ", "invalid boolean value "} {
		rest, ok := strings.CutPrefix(msg, head)
		if !ok {
			continue
		}
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			break
		}
		v, _ := strconv.Unquote(q)
		rest = strings.TrimPrefix(strings.TrimPrefix(rest[len(q):], " for flag -"), " for -")
		name, why, _ := strings.Cut(rest, ": ")
		if head == "invalid boolean value " {
			return fmt.Sprintf("%s is a switch: give it alone, not =%s", dash(name), v)
		}
		return fmt.Sprintf("%s %s: %s", dash(name), v, strings.TrimPrefix(why, q+": "))
	}
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return dash(name) + " is not an option"
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return dash(name) + " needs a value"
	}
	return msg
}

// checkTypes are the types a check takes, sorted.
func checkTypes() []string {
	names := slices.Clone(registry.elsewhere)
	for _, k := range registry.kinds {
		names = append(names, k.Name)
	}
	return slices.Sorted(slices.Values(names))
}

// defaultPorts says the well-known ports of the types that have them:
// "smtp 25/465, pop3 110/995, imap 143/993".
func defaultPorts() string {
	var out []string
	for _, k := range registry.kinds {
		if k.Ports != (probe.Ports{}) && !k.RoundTrip {
			out = append(out, fmt.Sprintf("%s %d/%d", k.Name, k.Ports.Plain, k.Ports.Implicit))
		}
	}
	return strings.Join(out, ", ")
}

func probeSMTPPorts() probe.Ports { return smtpprobe.Kind().Ports }

// flagName maps a configuration field to the option that sets it.
func flagName(field string) string {
	switch field {
	case "ca", "tls", "host", "port", "user", "auth", "mailbox", "stat", "timeout", "expect", "from", "to", "name":
		return field
	case "warn":
		return "warning"
	case "secret":
		return "secret-file"
	case "password":
		return "password-file or --password-env"
	case "oauth_token":
		return "oauth-token-file or --oauth-token-command"
	case "oauth.client_secret":
		return "oauth-client-secret-file or --oauth-client-secret-env (or --oauth-refresh-token-file)"
	}
	if o, ok := strings.CutPrefix(field, "oauth."); ok {
		return "oauth-" + strings.ReplaceAll(o, "_", "-")
	}
	if leg, ok := strings.CutPrefix(field, "smtp."); ok {
		switch leg {
		case "password":
			return "smtp-password-file or --smtp-password-env"
		case "allow_plaintext_auth":
			return "allow-plaintext-auth" // one option for both legs
		}
		return "smtp-" + flagName(leg)
	}
	return strings.ReplaceAll(field, "_", "-")
}

// config turns the options into the test's configuration.
func (f *flags) config(kind probe.Kind, env Env) (probe.Config, error) {
	tls := f.tls
	if f.startTLS {
		if tls != "" && tls != string(probe.TLSStartTLS) {
			return probe.Config{}, fmt.Errorf("-S is --tls starttls: give one or the other, not -S with --tls %s", tls)
		}
		tls = string(probe.TLSStartTLS)
	}
	if tls == "" {
		tls = string(probe.TLSNone)
	}
	cfg := probe.Config{
		Type: kind.Name, Host: f.host, Port: f.port, TLS: probe.TLSMode(tls),
		Timeout: f.timeout.D, CertWarnDays: f.certDays.warn,
		CAFile: f.ca, ServerName: f.serverName, InsecureSkipVerify: f.insecure,
		User: f.user, Auth: f.auth, AllowPlaintextAuth: f.allowPlaintext,
		EHLOName: f.ehlo, Mailbox: f.mailbox, Stat: f.stat,
		OAuthToken: oauth.Source{File: f.tokenFile},
	}
	if kind.Name == "tcp" {
		cfg.Expect = f.expect // the probe judges the banner; other types' greeting is judged in judge
	}
	if f.mailbox != "" {
		cfg.MailboxCheck = f.mailboxCheck
	}
	if err := f.domain(&cfg, env); err != nil {
		return cfg, err
	}
	if f.timeout.D <= 0 {
		return cfg, errors.New("--timeout must be positive")
	}
	if c := f.certDays; c.warn > 0 && c.crit > c.warn {
		return cfg, fmt.Errorf("-D %d,%d: CRIT is more days than WARN, so WARN would never be seen: give -D %d,%d", c.warn, c.crit, c.crit, c.warn)
	}
	if f.certDays.warn == 0 {
		cfg.CertWarnDays = -1 // explicitly never warn; Validate treats 0 as unset
	}
	if f.tokenCommand != "" {
		argv, err := oauth.SplitCommand(f.tokenCommand)
		if err != nil {
			return cfg, fmt.Errorf("--oauth-token-command: %v", err)
		}
		cfg.OAuthToken.Command = argv
	}
	pw, err := password(f.passwordFile, f.passwordEnv, env)
	if err != nil {
		return cfg, err
	}
	cfg.Password = probe.Password(pw)
	if cfg.OAuthToken.Flow, err = f.oauth.source(&cfg, env); err != nil {
		return cfg, err
	}
	cfg.AuthResults, cfg.AuthResultsID = f.authResults, f.authResultsID
	if cfg.AuthResults == "critical" { // the plug-in's word for the YAML's down
		cfg.AuthResults = "down"
	}
	cfg.AuthResultsMethods = probe.SplitList(f.authResultsMethods)
	if kind.RoundTrip {
		if err := f.roundTrip(&cfg, env); err != nil {
			return cfg, err
		}
	} else if f.smtpOAuth.set() {
		return cfg, fmt.Errorf("--smtp-oauth-* are for round trips, not %s (give the token with --oauth-*)", kind.Name)
	} else if !f.warnDelivery.IsZero() || !f.critDelivery.IsZero() {
		return cfg, fmt.Errorf("--warn-delivery and --crit-delivery are for round trips, not %s", kind.Name)
	}
	return cfg, nil
}

// roundTrip adds the SMTP leg, the addresses and the secret of a round trip.
func (f *flags) roundTrip(cfg *probe.Config, env Env) error {
	if !f.set["timeout"] {
		cfg.Timeout = 0 // the round trip's own default
	}
	cfg.From, cfg.To, cfg.Monitor = f.from, f.to, f.name
	if cfg.To == "" && strings.Contains(f.user, "@") {
		cfg.To = f.user
	}
	if cfg.From == "" {
		cfg.From = cfg.To
	}
	cfg.PollInterval, cfg.StaleAfter = f.pollInterval.D, f.staleAfter.D
	pw, err := password(f.smtpPasswordFile, f.smtpPasswordEnv, env)
	if err != nil {
		return fmt.Errorf("--smtp-%s", strings.TrimPrefix(err.Error(), "--"))
	}
	smtpTLS := f.smtpTLS
	if smtpTLS == "" {
		smtpTLS = string(probe.TLSNone)
	}
	cfg.SMTP = &probe.Config{
		Host: f.smtpHost, Port: f.smtpPort, TLS: probe.TLSMode(smtpTLS),
		User: f.smtpUser, Password: probe.Password(pw), Auth: f.smtpAuth,
		CAFile: f.ca, ServerName: f.serverName, InsecureSkipVerify: f.insecure,
		AllowPlaintextAuth: f.allowPlaintext, CertWarnDays: cfg.CertWarnDays, EHLOName: f.ehlo,
	}
	if err := f.oauth.legToken(cfg, &f.smtpOAuth, f.set, env); err != nil {
		return err
	}
	key, err := keyfile.Source{File: f.secretFile, Getenv: env.Getenv}.Load()
	if err != nil {
		return err
	}
	cfg.InstallationKey = key
	return nil
}

// password reads the password from a file or the environment; it is never
// taken from the command line, where any user of the machine can read it.
func password(file, envVar string, env Env) (string, error) {
	switch {
	case file != "" && envVar != "":
		return "", errors.New("give --password-file or --password-env, not both")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--password-file: %v", err)
		}
		pw, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimSuffix(pw, "\r"), nil
	case envVar != "":
		pw := env.Getenv(envVar)
		if pw == "" {
			return "", fmt.Errorf("--password-env: %s is not set or empty", envVar)
		}
		return pw, nil
	}
	return "", nil
}

// Interruptible reports whether the check args ask for (TYPE first)
// should end through its context on SIGINT or SIGTERM: a round trip, which
// waits for its message for minutes and says how far it got. Any other
// check is over in seconds, and the signal's default action ends it; so
// mailmon-check does not start Go's signal-handling thread for it (one
// thread and about 30 context switches less per process).
func Interruptible(args []string) bool {
	if len(args) == 0 {
		return false
	}
	k, ok := lookup(strings.ToLower(args[0]))
	return ok && k.RoundTrip
}
