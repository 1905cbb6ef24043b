package cli

import (
	"context"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mailmon/mailmon/internal/discover"
	"github.com/mailmon/mailmon/internal/plugin"
)

const discoverUsage = `usage: mailmon discover HOST|DOMAIN [flags]

Finds the mail services of HOST, or of DOMAIN's MX hosts in preference
order (a name without MX records is taken as a host): which ports answer,
their greeting, TLS modes (STARTTLS, implicit) and versions, certificate,
authentication mechanisms before and after TLS, SMTP size limit and
extensions, and a security verdict per service with its reasons
(certificate invalid or expiring, TLS below 1.2, STARTTLS missing, AUTH
without TLS, STARTTLS command injection). For a DOMAIN it also looks up
what the domain publishes: MTA-STS, TLS-RPT, DKIM keys under the common
selectors, and each MX host's DANE (TLSA) records and reverse DNS, each
found record tested once. All ports and lookups run in parallel within
--timeout.

--ports is a comma-separated list of SERVICE or SERVICE:PORT, SERVICE one
of smtp (25), smtps (465), submission (587), pop3 (110), pop3s (995),
imap (143), imaps (993); "default" is that whole list. It replaces the
list: --ports default,smtp:2525 adds a port, --ports imaps:10993 tries
only one.

--output yaml proposes monitors for "mailmon apply -f -": per host a
device with a ping monitor, a tcp monitor per service that answered
(depending on the ping) and the service's own monitor (depending on its
tcp monitor), in the TLS mode it offers; for a DOMAIN, beside them, the
domain's blocklist, SPF, DMARC, reverse DNS monitors, and its DKIM,
MTA-STS, TLS-RPT and DANE monitors when published (docs/domain-health.md).

Exit codes: 0 services found, 2 none answered (or the MX lookup failed),
3 bad usage.

flags:
`

// Discover is "mailmon discover HOST|DOMAIN [flags]".
func Discover(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("mailmon discover", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	ports := fs.String("ports", "default", "ports to try: SERVICE[:PORT],… (see above)")
	resolver := fs.String("resolver", "", "DNS server for the MX, address and domain record lookups, IP[:PORT] (default: the system's); DANE needs one that validates DNSSEC")
	timeout := plugin.Seconds{D: discover.DefaultTimeout}
	fs.Var(&timeout, "timeout", "time limit of the whole discovery")
	output := fs.String("output", "table", "output: table, json or yaml (monitors for mailmon apply)")
	ca := fs.String("ca", "", "PEM file of CA certificates to verify with instead of the system's (kept in the proposed monitors)")
	serverName := fs.String("servername", "", "verify certificates for this name (default: the host; kept in the proposed monitors)")
	ehlo := fs.String("ehlo", "", "SMTP EHLO name (default: this host's name)")
	certWarn := fs.Int("cert-warn-days", 14, "a certificate expiring within this many days is a weakness (0: never)")
	noMX := fs.Bool("no-mx", false, "take the name as a host even if it has MX records")
	help := func(w io.Writer) {
		fmt.Fprint(w, discoverUsage)
		printFlags(w, fs, nil, nil)
	}
	var target string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		target, args = args[0], args[1:]
	}
	if code, done := parseFlags(fs, args, env, help); done {
		return code
	}
	if target == "" && fs.NArg() > 0 {
		target = fs.Arg(0)
		if code, done := parseFlags(fs, fs.Args()[1:], env, help); done {
			return code
		}
	}
	if fs.NArg() > 0 {
		return errorf(env, "discover: unexpected argument %q", fs.Arg(0))
	}
	if target == "" || strings.ContainsAny(target, " /\t\r\n") {
		return errorf(env, "discover: give one HOST or DOMAIN (\"mailmon help discover\" says more)")
	}
	o := discover.Options{Timeout: timeout.D, ServerName: *serverName, EHLOName: *ehlo, CertWarnDays: *certWarn, NoMX: *noMX, Probers: env.probers}
	if *certWarn == 0 {
		o.CertWarnDays = -1
	}
	if timeout.D <= 0 {
		return errorf(env, "discover: --timeout must be positive")
	}
	var err error
	if o.Ports, err = discover.ParsePorts(*ports); err != nil {
		return errorf(env, "discover: --ports: %v", err)
	}
	if *resolver != "" {
		o.ResolverAddr = *resolver
		if o.Resolver, err = discover.NewResolver(*resolver); err != nil {
			return errorf(env, "discover: %v", err)
		}
	}
	if *ca != "" {
		pem, err := os.ReadFile(*ca)
		if err != nil {
			return errorf(env, "discover: --ca: %v", err)
		}
		o.RootCAs = x509.NewCertPool()
		if !o.RootCAs.AppendCertsFromPEM(pem) {
			return errorf(env, "discover: --ca: %s holds no PEM certificate", *ca)
		}
		// The proposed monitors are tested by a daemon started elsewhere.
		if o.CAFile, err = filepath.Abs(*ca); err != nil {
			return errorf(env, "discover: --ca: %v", err)
		}
	}
	var write func(*discover.Report) error
	switch strings.ToLower(*output) {
	case "table":
		colour := env.StdoutTerminal && env.Getenv("NO_COLOR") == ""
		write = func(r *discover.Report) error { return discover.WriteTable(env.Stdout, r, colour) }
	case "json":
		write = func(r *discover.Report) error { return discover.WriteJSON(env.Stdout, r) }
	case "yaml":
		write = func(r *discover.Report) error { return discover.WriteYAML(env.Stdout, r, o) }
	default:
		return errorf(env, "discover: --output: %q is not table, json or yaml", *output)
	}
	if env.IsTerminal {
		o.Progress = func(done, total int) {
			fmt.Fprintf(env.Stderr, "\rdiscovering %s: %d of %d ports done ", target, done, total)
		}
	}
	r := discover.Run(ctx, target, o)
	if env.IsTerminal {
		fmt.Fprint(env.Stderr, "\r\033[K")
	}
	if err := write(r); err != nil {
		return errorf(env, "discover: %v", err)
	}
	if !r.Found() {
		if r.Error != "" {
			fmt.Fprintf(env.Stderr, "mailmon: discover: %s\n", r.Error)
		} else {
			fmt.Fprintf(env.Stderr, "mailmon: discover: no mail service answered on %s\n", target)
		}
		return ExitCritical
	}
	return ExitOK
}
