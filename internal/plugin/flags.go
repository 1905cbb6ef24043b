package plugin

import (
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
)

// flags are the options of a check. Each has a long name (--host), and the
// ones the Monitoring Plugins share a short one (-H) and the long name
// check_smtp gives it (--hostname).
type flags struct {
	host, tls, user, passwordFile, passwordEnv, auth string
	tokenFile, tokenCommand, ca, serverName          string
	ehlo, mailbox, mailboxCheck, expect, output      string
	resolver, zones, selectors, ips, dqsKeyFile      string
	port                                             int
	certDays                                         certDays
	timeout                                          Seconds
	warn, crit, warnDelivery, critDelivery           Range
	insecure, allowPlaintext, stat, startTLS         bool
	verbose, help, version                           bool

	// round trips
	smtpHost, smtpTLS, smtpUser, smtpPasswordFile, smtpPasswordEnv, smtpAuth string
	smtpPort                                                                 int
	from, to, name, secretFile                                               string
	pollInterval, staleAfter                                                 Seconds
	authResults, authResultsID, authResultsMethods                           string

	set map[string]bool // the options given, by their long names

	oauth     oauthFlags // a token endpoint (oauth.go)
	smtpOAuth oauthFlags // the SMTP leg's own (--smtp-oauth-*)
}

// option is one option for the help text; the flag package holds its
// value under each of its names.
type option struct {
	short, long string
	aliases     []string // other long names: check_smtp's own
	arg         string   // the value's name in the help; "" for a switch
	help        string
	helpFunc    func() string // the help, where it is computed (the default ports)
	group       string
	value       func(*flags) flag.Value // the flags' field the option sets
}

// Seconds is a duration option that takes a number of seconds, as plug-in
// users type it ("10", "1.5"), or a Go duration ("10s", "500ms").
type Seconds struct{ D time.Duration }

func (s *Seconds) String() string { return s.D.String() }

// Set reads a number of seconds or a duration.
func (s *Seconds) Set(v string) error {
	f, err := parseSeconds(v)
	if err != nil {
		return err
	}
	s.D = time.Duration(f * float64(time.Second))
	return nil
}

// parseSeconds reads a number of seconds, or a duration with its unit.
func parseSeconds(v string) (float64, error) {
	if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return f, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q is neither a number of seconds (10, 1.5) nor a duration (10s, 500ms)", v)
	}
	return d.Seconds(), nil
}

// rangeValue is a Range option whose ends are read by bound.
type rangeValue struct {
	r     *Range
	bound func(string) (float64, error)
}

func (v rangeValue) String() string { return v.r.String() }
func (v rangeValue) Set(s string) error {
	r, err := ParseRange(s, v.bound)
	if err == nil {
		*v.r = r
	}
	return err
}

// certDays is check_smtp's -D WARN[,CRIT]: a certificate valid for fewer
// days than WARN is a WARNING, fewer than CRIT CRITICAL.
type certDays struct {
	warn, crit int
}

func (c *certDays) String() string { return fmt.Sprintf("%d,%d", c.warn, c.crit) }
func (c *certDays) Set(s string) error {
	w, cr, two := strings.Cut(s, ",")
	var err error
	if c.warn, err = days(w); err != nil {
		return err
	}
	if two {
		if c.crit, err = days(cr); err != nil {
			return err
		}
	}
	return nil
}

func days(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a number of days", s)
	}
	return n, nil
}

// intValue and friends let crit days be set on its own (--cert-crit-days).
type intValue struct{ p *int }

func (v intValue) String() string { return strconv.Itoa(*v.p) }
func (v intValue) Set(s string) error {
	n, err := days(s)
	if err == nil {
		*v.p = n
	}
	return err
}

// options are every option of a check, in the order of the help. The
// table is static (the linker lays it out; nothing of it runs at start-up)
// and register hands each option's value to the flag set; a check process
// pays for one loop, not for building the table.
var options = [...]option{
	{short: "H", long: "host", aliases: []string{"hostname", "domain"}, arg: "HOST", help: "host name or IP address of the server (required); the domain types take --domain", group: gConn, value: func(f *flags) flag.Value { return (*stringValue)(&f.host) }},
	{short: "p", long: "port", arg: "PORT", helpFunc: portHelp, group: gConn, value: func(f *flags) flag.Value { return (*portValue)(&f.port) }},
	{short: "t", long: "timeout", arg: "SECONDS", help: "the test's maximum duration, one deadline (default 10; round trips 60)", group: gConn, value: func(f *flags) flag.Value { return &f.timeout }},

	{short: "w", long: "warning", aliases: []string{"warn"}, arg: "RANGE", help: "response time (seconds) that is a WARNING: 2 means over 2 s; any range of the guidelines (10, 10:, ~:10, 10:20, @10:20)", group: gThr, value: func(f *flags) flag.Value { return rangeValue{&f.warn, parseSeconds} }},
	{short: "c", long: "critical", aliases: []string{"crit"}, arg: "RANGE", help: "response time (seconds) that is CRITICAL, as -w", group: gThr, value: func(f *flags) flag.Value { return rangeValue{&f.crit, parseSeconds} }},
	{short: "D", long: "certificate", arg: "WARN[,CRIT]", help: "a certificate valid for fewer than WARN days is a WARNING, fewer than CRIT CRITICAL (default 14, no CRIT; 0: never); an expired one is always CRITICAL", group: gThr, value: func(f *flags) flag.Value { return &f.certDays }},
	{long: "cert-warn-days", arg: "DAYS", help: "the WARN of -D alone", group: gThr, value: func(f *flags) flag.Value { return intValue{&f.certDays.warn} }},
	{long: "cert-crit-days", arg: "DAYS", help: "the CRIT of -D alone", group: gThr, value: func(f *flags) flag.Value { return intValue{&f.certDays.crit} }},
	{long: "warn-delivery", arg: "RANGE", help: "round trips: delivery time (seconds, SMTP accepted to seen in the mailbox) that is a WARNING, as -w", group: gThr, value: func(f *flags) flag.Value { return rangeValue{&f.warnDelivery, parseSeconds} }},
	{long: "crit-delivery", arg: "RANGE", help: "round trips: delivery time that is CRITICAL, as -w", group: gThr, value: func(f *flags) flag.Value { return rangeValue{&f.critDelivery, parseSeconds} }},

	{short: "S", long: "starttls", help: "STARTTLS, required (the same as --tls starttls)", group: gTLS, value: func(f *flags) flag.Value { return (*boolValue)(&f.startTLS) }},
	{long: "tls", arg: "MODE", help: "none (default), starttls-optional, starttls, implicit", group: gTLS, value: func(f *flags) flag.Value { return (*stringValue)(&f.tls) }},
	{long: "ca", arg: "FILE", help: "PEM file of CA certificates to trust instead of the system's", group: gTLS, value: func(f *flags) flag.Value { return (*stringValue)(&f.ca) }},
	{long: "servername", aliases: []string{"sni"}, arg: "NAME", help: "name to verify the certificate for (default: the host)", group: gTLS, value: func(f *flags) flag.Value { return (*stringValue)(&f.serverName) }},
	{long: "insecure-skip-verify", help: "do not verify the certificate's chain and name (expiry is still judged)", group: gTLS, value: func(f *flags) flag.Value { return (*boolValue)(&f.insecure) }},

	{short: "U", long: "user", aliases: []string{"authuser"}, arg: "USER", help: "log in as this user", group: gAuth, value: func(f *flags) flag.Value { return (*stringValue)(&f.user) }},
	{long: "password-file", arg: "FILE", help: "read the password from this file's first line (never from the command line)", group: gAuth, value: func(f *flags) flag.Value { return (*stringValue)(&f.passwordFile) }},
	{long: "password-env", arg: "VAR", help: "read the password from this environment variable", group: gAuth, value: func(f *flags) flag.Value { return (*stringValue)(&f.passwordEnv) }},
	{short: "A", long: "auth", aliases: []string{"authtype"}, arg: "MECH", help: "auto (default), PLAIN, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER; pop3 also USER, APOP; imap LOGIN is the LOGIN command", group: gAuth, value: func(f *flags) flag.Value { return (*stringValue)(&f.auth) }},
	{long: "oauth-token-file", arg: "FILE", help: "read an OAuth2 bearer token from this file", group: gAuth, value: func(f *flags) flag.Value { return (*stringValue)(&f.tokenFile) }},
	{long: "oauth-token-command", arg: "CMD", help: "run this command (no shell); its output is the OAuth2 bearer token", group: gAuth, value: func(f *flags) flag.Value { return (*stringValue)(&f.tokenCommand) }},
	{long: "allow-plaintext-auth", help: "send credentials over a connection without TLS, in any form", group: gAuth, value: func(f *flags) flag.Value { return (*boolValue)(&f.allowPlaintext) }},
	// A token endpoint mailmon asks itself (oauth.go).
	{long: "oauth-provider", arg: "NAME", help: "fetch the token from this provider: microsoft (with --oauth-tenant) or google; fills the token URL, the scope, and -H when left out", group: gAuth, value: func(f *flags) flag.Value { return (*stringValue)(&f.oauth.provider) }},
	{long: "oauth-tenant", arg: "TENANT", help: "microsoft: the directory (tenant) id or a verified domain (contoso.onmicrosoft.com)", group: gAuth, value: func(f *flags) flag.Value { return (*stringValue)(&f.oauth.tenant) }},
	{long: "oauth-token-url", arg: "URL", help: "fetch the token from this OAuth2 token endpoint (https; http only on loopback)", group: gAuth, value: func(f *flags) flag.Value { return (*stringValue)(&f.oauth.tokenURL) }},
	{long: "oauth-client-id", arg: "ID", help: "the application (client) id", group: gAuth, value: func(f *flags) flag.Value { return (*stringValue)(&f.oauth.clientID) }},
	{long: "oauth-client-secret-file", arg: "FILE", help: "read the client secret from this file's first line", group: gAuth, value: func(f *flags) flag.Value { return (*stringValue)(&f.oauth.secretFile) }},
	{long: "oauth-client-secret-env", arg: "VAR", help: "read the client secret from this environment variable", group: gAuth, value: func(f *flags) flag.Value { return (*stringValue)(&f.oauth.secretEnv) }},
	{long: "oauth-scope", arg: "SCOPES", help: "space-separated scopes (default by provider; Microsoft 365: https://outlook.office365.com/.default)", group: gAuth, value: func(f *flags) flag.Value { return (*stringValue)(&f.oauth.scope) }},
	{long: "oauth-refresh-token-file", arg: "FILE", help: "the refresh token grant, with the token in this file (from mailmon oauth login), instead of client credentials", group: gAuth, value: func(f *flags) flag.Value { return (*stringValue)(&f.oauth.refreshFile) }},

	{short: "F", long: "ehlo", aliases: []string{"fqdn"}, arg: "NAME", help: "smtp: the EHLO name (default: this host's name)", group: gProto, value: func(f *flags) flag.Value { return (*stringValue)(&f.ehlo) }},
	{short: "e", long: "expect", arg: "TEXT", help: "text the greeting (tcp: the banner) must contain; smtp, pop3, imap: a WARNING when it does not", group: gProto, value: func(f *flags) flag.Value { return (*stringValue)(&f.expect) }},
	{long: "mailbox", arg: "NAME", help: "imap: check this mailbox after login", group: gProto, value: func(f *flags) flag.Value { return (*stringValue)(&f.mailbox) }},
	{long: "mailbox-check", arg: "HOW", help: "imap: status (default) or select (read-only EXAMINE)", group: gProto, value: func(f *flags) flag.Value { return (*stringValue)(&f.mailboxCheck) }},
	{long: "stat", help: "pop3: STAT after login", group: gProto, value: func(f *flags) flag.Value { return (*boolValue)(&f.stat) }},

	{long: "resolver", arg: "IP:PORT", help: "the DNS resolver of the domain types (default: the first nameserver of /etc/resolv.conf); dane needs a validating one", group: gDom, value: func(f *flags) flag.Value { return (*stringValue)(&f.resolver) }},
	{long: "zones", arg: "Z1,Z2", help: "dnsbl: the blocklist zones (default: the documented set); domain:ZONE is a domain list", group: gDom, value: func(f *flags) flag.Value { return (*stringValue)(&f.zones) }},
	{long: "selector", aliases: []string{"selectors"}, arg: "S1,S2", help: "dkim: the selectors to check", group: gDom, value: func(f *flags) flag.Value { return (*stringValue)(&f.selectors) }},
	{long: "ips", arg: "IP1,IP2", help: "spf: the sending addresses the record must authorise", group: gDom, value: func(f *flags) flag.Value { return (*stringValue)(&f.ips) }},
	{long: "dqs-key-file", arg: "FILE", help: "dnsbl: read a Spamhaus DQS key from this file's first line", group: gDom, value: func(f *flags) flag.Value { return (*stringValue)(&f.dqsKeyFile) }},

	{long: "output", arg: "FORMAT", help: "nagios (default), json or text", group: gOut, value: func(f *flags) flag.Value { return (*stringValue)(&f.output) }},
	{short: "v", long: "verbose", help: "add the conversation (redacted) to the output, after the status line", group: gOut, value: func(f *flags) flag.Value { return (*boolValue)(&f.verbose) }},
	{short: "V", long: "version", help: "print the version and exit (3)", group: gOut, value: func(f *flags) flag.Value { return (*boolValue)(&f.version) }},
	{short: "h", long: "help", help: "print this help and exit (3)", group: gOut, value: func(f *flags) flag.Value { return (*boolValue)(&f.help) }},

	{long: "smtp-host", arg: "HOST", help: "the SMTP server that takes the probe (default: -H)", group: gRT, value: func(f *flags) flag.Value { return (*stringValue)(&f.smtpHost) }},
	{long: "smtp-port", arg: "PORT", helpFunc: smtpPortHelp, group: gRT, value: func(f *flags) flag.Value { return (*portValue)(&f.smtpPort) }},
	{long: "smtp-tls", arg: "MODE", help: "its TLS mode, as --tls", group: gRT, value: func(f *flags) flag.Value { return (*stringValue)(&f.smtpTLS) }},
	{long: "smtp-user", arg: "USER", help: "authenticate the SMTP leg (submission)", group: gRT, value: func(f *flags) flag.Value { return (*stringValue)(&f.smtpUser) }},
	{long: "smtp-password-file", arg: "FILE", help: "the SMTP leg's password file", group: gRT, value: func(f *flags) flag.Value { return (*stringValue)(&f.smtpPasswordFile) }},
	{long: "smtp-password-env", arg: "VAR", help: "the SMTP leg's password variable", group: gRT, value: func(f *flags) flag.Value { return (*stringValue)(&f.smtpPasswordEnv) }},
	{long: "smtp-auth", arg: "MECH", help: "the SMTP leg's mechanism, as -A", group: gRT, value: func(f *flags) flag.Value { return (*stringValue)(&f.smtpAuth) }},
	// The SMTP leg's own token endpoint (oauth.go): --oauth-* for the leg.
	{long: "smtp-oauth-provider", arg: "NAME", help: "the SMTP leg's own token: from this provider (microsoft with --smtp-oauth-tenant, or google); fills the scope and --smtp-host (587, STARTTLS)", group: gRT, value: func(f *flags) flag.Value { return (*stringValue)(&f.smtpOAuth.provider) }},
	{long: "smtp-oauth-tenant", arg: "TENANT", help: "the SMTP leg's own token: microsoft's tenant, as --oauth-tenant", group: gRT, value: func(f *flags) flag.Value { return (*stringValue)(&f.smtpOAuth.tenant) }},
	{long: "smtp-oauth-token-url", arg: "URL", help: "the SMTP leg's own token: from this token endpoint, as --oauth-token-url", group: gRT, value: func(f *flags) flag.Value { return (*stringValue)(&f.smtpOAuth.tokenURL) }},
	{long: "smtp-oauth-client-id", arg: "ID", help: "the SMTP leg's own token: the application (client) id", group: gRT, value: func(f *flags) flag.Value { return (*stringValue)(&f.smtpOAuth.clientID) }},
	{long: "smtp-oauth-client-secret-file", arg: "FILE", help: "the SMTP leg's own token: the client secret's file", group: gRT, value: func(f *flags) flag.Value { return (*stringValue)(&f.smtpOAuth.secretFile) }},
	{long: "smtp-oauth-client-secret-env", arg: "VAR", help: "the SMTP leg's own token: the client secret's environment variable", group: gRT, value: func(f *flags) flag.Value { return (*stringValue)(&f.smtpOAuth.secretEnv) }},
	{long: "smtp-oauth-scope", arg: "SCOPES", help: "the SMTP leg's own token: space-separated scopes (default by provider)", group: gRT, value: func(f *flags) flag.Value { return (*stringValue)(&f.smtpOAuth.scope) }},
	{long: "smtp-oauth-refresh-token-file", arg: "FILE", help: "the SMTP leg's own token: the refresh token grant, with the token in this file", group: gRT, value: func(f *flags) flag.Value { return (*stringValue)(&f.smtpOAuth.refreshFile) }},
	{long: "from", arg: "ADDR", help: "the probe's sender (default: --to)", group: gRT, value: func(f *flags) flag.Value { return (*stringValue)(&f.from) }},
	{long: "to", arg: "ADDR", help: "the probe's recipient, the mailbox's address (default: -U)", group: gRT, value: func(f *flags) flag.Value { return (*stringValue)(&f.to) }},
	{long: "name", arg: "NAME", help: "the monitor name in the probe's subject (default check)", group: gRT, value: func(f *flags) flag.Value { return (*stringValue)(&f.name) }},
	{long: "secret-file", arg: "FILE", help: "this installation's secret (default $MAILMON_SECRET, else made in the user's config folder)", group: gRT, value: func(f *flags) flag.Value { return (*stringValue)(&f.secretFile) }},
	{long: "poll-interval", arg: "SECONDS", help: "longest wait between looks into the mailbox", group: gRT, value: func(f *flags) flag.Value { return &f.pollInterval }},
	{long: "stale-after", arg: "SECONDS", help: "delete this installation's probes older than this (left by failed runs)", group: gRT, value: func(f *flags) flag.Value { return &f.staleAfter }},
	{long: "auth-results", arg: "HOW", help: "a dkim, spf or dmarc verdict other than pass in the probe's Authentication-Results: warn (default), ignore or critical", group: gRT, value: func(f *flags) flag.Value { return (*stringValue)(&f.authResults) }},
	{long: "auth-results-id", arg: "ID", help: "only the Authentication-Results header of this authserv-id (the receiving server) counts (default: the first)", group: gRT, value: func(f *flags) flag.Value { return (*stringValue)(&f.authResultsID) }},
	{long: "auth-results-methods", arg: "M1,M2", help: "the methods --auth-results judges (default dkim,spf,dmarc)", group: gRT, value: func(f *flags) flag.Value { return (*stringValue)(&f.authResultsMethods) }},
}

// The groups of the help, in its order.
const (
	gConn, gThr, gTLS, gAuth = "connection", "thresholds", "TLS", "login"
	gProto, gDom, gOut, gRT  = "protocol", "domain health", "output", "round trips"
)

// portHelp and smtpPortHelp name the default ports, which depend on the
// types registered: the help, not the parse, asks for them.
func portHelp() string { return "TCP port (default by type and TLS mode: " + defaultPorts() + ")" }

func smtpPortHelp() string {
	smtp := probeSMTPPorts()
	return fmt.Sprintf("its port (default %d, or %d with --smtp-tls implicit)", smtp.Plain, smtp.Implicit)
}

// text is the option's line of help.
func (o *option) text() string {
	if o.helpFunc != nil {
		return o.helpFunc()
	}
	return o.help
}

// names are the option's names: its short one, its long one, then the
// long names check_smtp gives it.
func (o *option) names(yield func(string) bool) {
	if o.short != "" && !yield(o.short) {
		return
	}
	if !yield(o.long) {
		return
	}
	for _, n := range o.aliases {
		if !yield(n) {
			return
		}
	}
}

// register sets the defaults, declares every option on fs under each of
// its names, and returns the options for the help.
func (f *flags) register(fs *flag.FlagSet) []option {
	f.timeout.D = probe.DefaultTimeout
	f.certDays.warn = probe.DefaultCertWarnDays
	f.auth, f.smtpAuth = "auto", "auto"
	f.mailboxCheck = "status"
	f.output = "nagios"
	f.name = "check"
	f.pollInterval.D = probe.DefaultPollInterval
	f.staleAfter.D = probe.DefaultStaleAfter
	for i := range options {
		o := &options[i]
		v := o.value(f)
		for n := range o.names {
			fs.Var(v, n, "") // the help is ours (help.go); fs prints none
		}
	}
	return options[:]
}

// given records which options the command line set, by long name.
func (f *flags) given(fs *flag.FlagSet, opts []option) {
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) {
		for i := range opts {
			for n := range opts[i].names {
				if n == fl.Name {
					f.set[opts[i].long] = true
					return
				}
			}
		}
	})
}

type stringValue string

func (s *stringValue) String() string     { return string(*s) }
func (s *stringValue) Set(v string) error { *s = stringValue(v); return nil }

type boolValue bool

func (b *boolValue) String() string   { return strconv.FormatBool(bool(*b)) }
func (b *boolValue) IsBoolFlag() bool { return true }
func (b *boolValue) Set(v string) error {
	x, err := strconv.ParseBool(v)
	*b = boolValue(x)
	return err
}

type portValue int

func (p *portValue) String() string { return strconv.Itoa(int(*p)) }
func (p *portValue) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("%q is not a port number", v)
	}
	*p = portValue(n)
	return nil
}
