package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/probe/roundtrip"
	"github.com/mailmon/mailmon/internal/probe/smtpprobe"
	"github.com/mailmon/mailmon/internal/sasl"
)

// checkFlags are the flags of "mailmon check".
type checkFlags struct {
	host, tls, user, passwordFile, passwordEnv, auth string
	tokenFile, tokenCommand, ca, serverName          string
	ehlo, mailbox, mailboxCheck, expect, output      string
	port, certWarnDays                               int
	timeout, warn                                    seconds
	insecure, allowPlaintext, stat                   bool

	// round trips
	smtpHost, smtpTLS, smtpUser, smtpPasswordFile, smtpPasswordEnv, smtpAuth string
	smtpPort                                                                 int
	from, to, name, secretFile                                               string
	pollInterval, staleAfter                                                 seconds
	timeoutSet                                                               bool
}

// seconds is a duration flag that also takes a plain number of seconds, as
// Nagios users type it.
type seconds struct{ d time.Duration }

func (s *seconds) String() string { return s.d.String() }
func (s *seconds) Set(v string) error {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		s.d = time.Duration(f * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("%q is neither a duration (10s, 1.5s, 500ms) nor a number of seconds", v)
	}
	s.d = d
	return nil
}

func (f *checkFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.host, "host", "", "host name or IP address of the server (required)")
	fs.IntVar(&f.port, "port", 0, "TCP port (default by type and TLS mode: "+defaultPorts()+")")
	fs.StringVar(&f.tls, "tls", "none", "TLS mode: none, starttls-optional, starttls, implicit")
	fs.StringVar(&f.user, "user", "", "log in as this user")
	fs.StringVar(&f.passwordFile, "password-file", "", "read the password from this file (first line)")
	fs.StringVar(&f.passwordEnv, "password-env", "", "read the password from this environment variable")
	fs.StringVar(&f.auth, "auth", "auto", "mechanism: auto, PLAIN, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER; pop3 also USER, APOP; for imap, LOGIN is the LOGIN command, not SASL LOGIN")
	fs.StringVar(&f.tokenFile, "oauth-token-file", "", "read an OAuth2 bearer token from this file")
	fs.StringVar(&f.tokenCommand, "oauth-token-command", "", "run this command (no shell) and use its output as OAuth2 bearer token")
	f.timeout.d = probe.DefaultTimeout
	fs.Var(&f.timeout, "timeout", "maximum test duration (e.g. 10s)")
	fs.Var(&f.warn, "warn", "warn when the test takes longer than this (e.g. 2s)")
	fs.IntVar(&f.certWarnDays, "cert-warn-days", probe.DefaultCertWarnDays, "warn when the certificate expires within this many days (0: never); an expired or not yet valid certificate fails the test, --insecure-skip-verify or not")
	fs.StringVar(&f.ca, "ca", "", "PEM file of CA certificates to trust instead of the system's")
	fs.StringVar(&f.serverName, "servername", "", "name to verify the certificate for (default: --host)")
	fs.BoolVar(&f.insecure, "insecure-skip-verify", false, "do not verify the certificate's chain of trust and host name (a name mismatch is reported as tls.name_mismatch; expiry is still judged)")
	fs.BoolVar(&f.allowPlaintext, "allow-plaintext-auth", false, "send credentials over a connection without TLS, in any form (a CRAM-MD5 or APOP digest too); both legs of a round trip")
	fs.StringVar(&f.ehlo, "ehlo", "", "smtp: EHLO name (default: this host's name)")
	fs.StringVar(&f.mailbox, "mailbox", "", "imap: check this mailbox after login")
	fs.StringVar(&f.mailboxCheck, "mailbox-check", "status", "imap: how to check --mailbox: status or select (read-only)")
	fs.BoolVar(&f.stat, "stat", false, "pop3: run STAT after login")
	fs.StringVar(&f.expect, "expect", "", "tcp: text the banner must contain")
	fs.StringVar(&f.output, "output", "nagios", "output: nagios, json or text")

	fs.StringVar(&f.smtpHost, "smtp-host", "", "round trip: SMTP server that takes the probe (default: --host)")
	smtp := smtpprobe.Kind().Ports
	fs.IntVar(&f.smtpPort, "smtp-port", 0, fmt.Sprintf("round trip: SMTP port (default %d, or %d with --smtp-tls implicit)", smtp.Plain, smtp.Implicit))
	fs.StringVar(&f.smtpTLS, "smtp-tls", "none", "round trip: SMTP TLS mode: none, starttls-optional, starttls, implicit")
	fs.StringVar(&f.smtpUser, "smtp-user", "", "round trip: authenticate the SMTP leg as this user (submission)")
	fs.StringVar(&f.smtpPasswordFile, "smtp-password-file", "", "round trip: read the SMTP password from this file")
	fs.StringVar(&f.smtpPasswordEnv, "smtp-password-env", "", "round trip: read the SMTP password from this environment variable")
	fs.StringVar(&f.smtpAuth, "smtp-auth", "auto", "round trip: SMTP AUTH mechanism")
	fs.StringVar(&f.from, "from", "", "round trip: sender of the probe (default: --to)")
	fs.StringVar(&f.to, "to", "", "round trip: recipient of the probe, the mailbox's address (default: --user)")
	fs.StringVar(&f.name, "name", "check", "round trip: monitor name in the probe's subject")
	fs.StringVar(&f.secretFile, "secret-file", "", "round trip: this installation's secret (default: $MAILMON_SECRET, else created in the user's config directory)")
	f.pollInterval.d = roundtrip.DefaultPollInterval
	fs.Var(&f.pollInterval, "poll-interval", "round trip: longest wait between looks into the mailbox")
	f.staleAfter.d = roundtrip.DefaultStaleAfter
	fs.Var(&f.staleAfter, "stale-after", "round trip: delete this installation's probes older than this (left by failed runs)")
}

// Check is "mailmon check TYPE [flags]".
func Check(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("mailmon check", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var f checkFlags
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "usage: mailmon check TYPE [flags]\n\nTYPE is one of: %s\n\nflags:\n", strings.Join(checkTypes(), ", "))
		fs.PrintDefaults()
		fmt.Fprintln(env.Stderr, "\nExit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad usage or configuration).")
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fs.Usage()
			return ExitOK
		}
		fs.Usage()
		return errorf(env, "check: the monitor type is missing")
	}
	typ := args[0]
	kind, ok := kinds.Lookup(typ)
	if !ok {
		return errorf(env, "check: unknown type %q (known: %s)", typ, strings.Join(checkTypes(), ", "))
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUnknown // the flag package has printed the problem and the usage
	}
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "timeout" {
			f.timeoutSet = true
		}
	})
	if fs.NArg() > 0 {
		return errorf(env, "check: unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	out, err := newOutput(f.output)
	if err != nil {
		return errorf(env, "check: --output: %v", err)
	}
	cfg, err := f.config(kind, env)
	if err != nil {
		return errorf(env, "check: %v", err)
	}
	if err := cfg.Validate(kind); err != nil {
		var ce *probe.ConfigError
		if errors.As(err, &ce) {
			for _, fe := range ce.Errs {
				fmt.Fprintf(env.Stderr, "mailmon: check: --%s: %s\n", flagName(fe.Field), fe.Msg)
			}
			return ExitUnknown
		}
		return errorf(env, "check: %v", err)
	}
	if kind.RoundTrip && env.IsTerminal {
		cfg.Progress = func(n int, elapsed time.Duration) {
			fmt.Fprintf(env.Stderr, "\rwaiting for the probe: attempt %d, %.1f s since it was sent ", n, elapsed.Seconds())
		}
		defer fmt.Fprint(env.Stderr, "\r\033[K")
	}
	r := probe.Run(ctx, kind, cfg)
	out(env, r)
	return exitCode(r)
}

// checkTypes are the types "mailmon check" takes, sorted.
func checkTypes() []string { return slices.Sorted(slices.Values(kinds.Names())) }

// defaultPorts says the well-known ports of the types that have them:
// "smtp 25/465, pop3 110/995, imap 143/993".
func defaultPorts() string {
	var out []string
	for _, k := range kinds.All() {
		if k.Ports != (probe.Ports{}) && !k.RoundTrip {
			out = append(out, fmt.Sprintf("%s %d/%d", k.Name, k.Ports.Plain, k.Ports.Implicit))
		}
	}
	return strings.Join(out, ", ")
}

// flagName maps a configuration field to the flag that sets it.
func flagName(field string) string {
	switch field {
	case "ca", "tls", "host", "port", "user", "auth", "mailbox", "stat", "timeout", "warn", "expect", "from", "to", "name":
		return field
	case "secret":
		return "secret-file"
	case "password":
		return "password-file or --password-env"
	case "oauth_token":
		return "oauth-token-file or --oauth-token-command"
	}
	if leg, ok := strings.CutPrefix(field, "smtp."); ok {
		switch leg {
		case "password":
			return "smtp-password-file or --smtp-password-env"
		case "allow_plaintext_auth":
			return "allow-plaintext-auth" // one flag for both legs
		}
		return "smtp-" + flagName(leg)
	}
	return strings.ReplaceAll(field, "_", "-")
}

func (f *checkFlags) config(kind probe.Kind, env Env) (probe.Config, error) {
	cfg := probe.Config{
		Type: kind.Name, Host: f.host, Port: f.port, TLS: probe.TLSMode(f.tls),
		Timeout: f.timeout.d, WarnRTT: f.warn.d, CertWarnDays: f.certWarnDays,
		CAFile: f.ca, ServerName: f.serverName, InsecureSkipVerify: f.insecure,
		User: f.user, Auth: f.auth, AllowPlaintextAuth: f.allowPlaintext,
		EHLOName: f.ehlo, Mailbox: f.mailbox, Stat: f.stat, Expect: f.expect,
		OAuthToken: sasl.TokenSource{File: f.tokenFile},
	}
	if f.mailbox != "" {
		cfg.MailboxCheck = f.mailboxCheck
	}
	if f.timeout.d <= 0 {
		return cfg, errors.New("--timeout must be positive")
	}
	if f.certWarnDays == 0 {
		cfg.CertWarnDays = -1 // explicitly never warn; Validate treats 0 as unset
	}
	if f.tokenCommand != "" {
		argv, err := sasl.SplitCommand(f.tokenCommand)
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
	if kind.RoundTrip {
		if err := f.roundTrip(&cfg, env); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// roundTrip adds the SMTP leg, the addresses and the secret of a round trip.
func (f *checkFlags) roundTrip(cfg *probe.Config, env Env) error {
	if !f.timeoutSet {
		cfg.Timeout = 0 // the round trip's own default
	}
	cfg.Monitor = f.name
	cfg.From, cfg.To = config.RoundTripAddresses(f.user, f.from, f.to)
	cfg.PollInterval, cfg.StaleAfter = f.pollInterval.d, f.staleAfter.d
	pw, err := password(f.smtpPasswordFile, f.smtpPasswordEnv, env)
	if err != nil {
		return fmt.Errorf("--smtp-%s", strings.TrimPrefix(err.Error(), "--"))
	}
	cfg.SMTP = &probe.Config{
		Host: f.smtpHost, Port: f.smtpPort, TLS: probe.TLSMode(f.smtpTLS),
		User: f.smtpUser, Password: probe.Password(pw), Auth: f.smtpAuth,
		CAFile: f.ca, ServerName: f.serverName, InsecureSkipVerify: f.insecure,
		AllowPlaintextAuth: f.allowPlaintext, CertWarnDays: cfg.CertWarnDays, EHLOName: f.ehlo,
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

func exitCode(r *probe.Result) int {
	switch {
	case r.Error != nil && r.Error.Code == probe.ConfigMissing:
		return ExitUnknown
	case r.Status == probe.StatusDown:
		return ExitCritical
	case r.Status == probe.StatusWarn:
		return ExitWarning
	}
	return ExitOK
}

type output func(env Env, r *probe.Result)

func newOutput(name string) (output, error) {
	switch name {
	case "nagios":
		return func(env Env, r *probe.Result) { fmt.Fprint(env.Stdout, Nagios(r)) }, nil
	case "json":
		return func(env Env, r *probe.Result) {
			enc := json.NewEncoder(env.Stdout)
			enc.SetIndent("", "  ")
			enc.Encode(r)
		}, nil
	case "text":
		return func(env Env, r *probe.Result) { fmt.Fprint(env.Stdout, Text(r)) }, nil
	}
	return nil, fmt.Errorf("%q is not nagios, json or text", name)
}
