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
	group       string
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

// register declares every option on fs and returns them for the help.
func (f *flags) register(fs *flag.FlagSet) []option {
	var opts []option
	add := func(o option, v flag.Value) {
		for _, name := range append([]string{o.short, o.long}, o.aliases...) {
			if name != "" {
				fs.Var(v, name, o.help)
			}
		}
		opts = append(opts, o)
	}
	str := func(p *string, def string) flag.Value { *p = def; return (*stringValue)(p) }
	boolean := func(p *bool) flag.Value { return (*boolValue)(p) }
	num := func(p *int) flag.Value { return (*portValue)(p) }

	const conn, thr, auth, tlsG, proto, out, rt = "connection", "thresholds", "login", "TLS", "protocol", "output", "round trips"
	add(option{"H", "host", []string{"hostname", "domain"}, "HOST", "host name or IP address of the server (required); the domain types take --domain", conn}, str(&f.host, ""))
	add(option{"p", "port", nil, "PORT", "TCP port (default by type and TLS mode: " + defaultPorts() + ")", conn}, num(&f.port))
	f.timeout.D = probe.DefaultTimeout
	add(option{"t", "timeout", nil, "SECONDS", "the test's maximum duration, one deadline (default 10; round trips 60)", conn}, &f.timeout)

	add(option{"w", "warning", []string{"warn"}, "RANGE", "response time (seconds) that is a WARNING: 2 means over 2 s; any range of the guidelines (10, 10:, ~:10, 10:20, @10:20)", thr},
		rangeValue{&f.warn, parseSeconds})
	add(option{"c", "critical", []string{"crit"}, "RANGE", "response time (seconds) that is CRITICAL, as -w", thr}, rangeValue{&f.crit, parseSeconds})
	f.certDays.warn = probe.DefaultCertWarnDays
	add(option{"D", "certificate", nil, "WARN[,CRIT]", "a certificate valid for fewer than WARN days is a WARNING, fewer than CRIT CRITICAL (default 14, no CRIT; 0: never); an expired one is always CRITICAL", thr}, &f.certDays)
	add(option{"", "cert-warn-days", nil, "DAYS", "the WARN of -D alone", thr}, intValue{&f.certDays.warn})
	add(option{"", "cert-crit-days", nil, "DAYS", "the CRIT of -D alone", thr}, intValue{&f.certDays.crit})
	add(option{"", "warn-delivery", nil, "RANGE", "round trips: delivery time (seconds, SMTP accepted to seen in the mailbox) that is a WARNING, as -w", thr}, rangeValue{&f.warnDelivery, parseSeconds})
	add(option{"", "crit-delivery", nil, "RANGE", "round trips: delivery time that is CRITICAL, as -w", thr}, rangeValue{&f.critDelivery, parseSeconds})

	add(option{"S", "starttls", nil, "", "STARTTLS, required (the same as --tls starttls)", tlsG}, boolean(&f.startTLS))
	add(option{"", "tls", nil, "MODE", "none (default), starttls-optional, starttls, implicit", tlsG}, str(&f.tls, ""))
	add(option{"", "ca", nil, "FILE", "PEM file of CA certificates to trust instead of the system's", tlsG}, str(&f.ca, ""))
	add(option{"", "servername", []string{"sni"}, "NAME", "name to verify the certificate for (default: the host)", tlsG}, str(&f.serverName, ""))
	add(option{"", "insecure-skip-verify", nil, "", "do not verify the certificate's chain and name (expiry is still judged)", tlsG}, boolean(&f.insecure))

	add(option{"U", "user", []string{"authuser"}, "USER", "log in as this user", auth}, str(&f.user, ""))
	add(option{"", "password-file", nil, "FILE", "read the password from this file's first line (never from the command line)", auth}, str(&f.passwordFile, ""))
	add(option{"", "password-env", nil, "VAR", "read the password from this environment variable", auth}, str(&f.passwordEnv, ""))
	add(option{"A", "auth", []string{"authtype"}, "MECH", "auto (default), PLAIN, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER; pop3 also USER, APOP; imap LOGIN is the LOGIN command", auth}, str(&f.auth, "auto"))
	add(option{"", "oauth-token-file", nil, "FILE", "read an OAuth2 bearer token from this file", auth}, str(&f.tokenFile, ""))
	add(option{"", "oauth-token-command", nil, "CMD", "run this command (no shell); its output is the OAuth2 bearer token", auth}, str(&f.tokenCommand, ""))
	add(option{"", "allow-plaintext-auth", nil, "", "send credentials over a connection without TLS, in any form", auth}, boolean(&f.allowPlaintext))
	f.oauth.register("login", add, str) // oauth.go

	add(option{"F", "ehlo", []string{"fqdn"}, "NAME", "smtp: the EHLO name (default: this host's name)", proto}, str(&f.ehlo, ""))
	add(option{"e", "expect", nil, "TEXT", "text the greeting (tcp: the banner) must contain; smtp, pop3, imap: a WARNING when it does not", proto}, str(&f.expect, ""))
	add(option{"", "mailbox", nil, "NAME", "imap: check this mailbox after login", proto}, str(&f.mailbox, ""))
	add(option{"", "mailbox-check", nil, "HOW", "imap: status (default) or select (read-only EXAMINE)", proto}, str(&f.mailboxCheck, "status"))
	add(option{"", "stat", nil, "", "pop3: STAT after login", proto}, boolean(&f.stat))

	const dom = "domain health"
	add(option{"", "resolver", nil, "IP:PORT", "the DNS resolver of the domain types (default: the first nameserver of /etc/resolv.conf); dane needs a validating one", dom}, str(&f.resolver, ""))
	add(option{"", "zones", nil, "Z1,Z2", "dnsbl: the blocklist zones (default: the documented set); domain:ZONE is a domain list", dom}, str(&f.zones, ""))
	add(option{"", "selector", []string{"selectors"}, "S1,S2", "dkim: the selectors to check", dom}, str(&f.selectors, ""))
	add(option{"", "ips", nil, "IP1,IP2", "spf: the sending addresses the record must authorise", dom}, str(&f.ips, ""))
	add(option{"", "dqs-key-file", nil, "FILE", "dnsbl: read a Spamhaus DQS key from this file's first line", dom}, str(&f.dqsKeyFile, ""))

	add(option{"", "output", nil, "FORMAT", "nagios (default), json or text", out}, str(&f.output, "nagios"))
	add(option{"v", "verbose", nil, "", "add the conversation (redacted) to the output, after the status line", out}, boolean(&f.verbose))
	add(option{"V", "version", nil, "", "print the version and exit (3)", out}, boolean(&f.version))
	add(option{"h", "help", nil, "", "print this help and exit (3)", out}, boolean(&f.help))

	smtp := probeSMTPPorts()
	add(option{"", "smtp-host", nil, "HOST", "the SMTP server that takes the probe (default: -H)", rt}, str(&f.smtpHost, ""))
	add(option{"", "smtp-port", nil, "PORT", fmt.Sprintf("its port (default %d, or %d with --smtp-tls implicit)", smtp.Plain, smtp.Implicit), rt}, num(&f.smtpPort))
	add(option{"", "smtp-tls", nil, "MODE", "its TLS mode, as --tls", rt}, str(&f.smtpTLS, ""))
	add(option{"", "smtp-user", nil, "USER", "authenticate the SMTP leg (submission)", rt}, str(&f.smtpUser, ""))
	add(option{"", "smtp-password-file", nil, "FILE", "the SMTP leg's password file", rt}, str(&f.smtpPasswordFile, ""))
	add(option{"", "smtp-password-env", nil, "VAR", "the SMTP leg's password variable", rt}, str(&f.smtpPasswordEnv, ""))
	add(option{"", "smtp-auth", nil, "MECH", "the SMTP leg's mechanism, as -A", rt}, str(&f.smtpAuth, "auto"))
	f.smtpOAuth.pre = "smtp-"
	f.smtpOAuth.register(rt, add, str)
	add(option{"", "from", nil, "ADDR", "the probe's sender (default: --to)", rt}, str(&f.from, ""))
	add(option{"", "to", nil, "ADDR", "the probe's recipient, the mailbox's address (default: -U)", rt}, str(&f.to, ""))
	add(option{"", "name", nil, "NAME", "the monitor name in the probe's subject (default check)", rt}, str(&f.name, "check"))
	add(option{"", "secret-file", nil, "FILE", "this installation's secret (default $MAILMON_SECRET, else made in the user's config folder)", rt}, str(&f.secretFile, ""))
	f.pollInterval.D = probe.DefaultPollInterval
	add(option{"", "poll-interval", nil, "SECONDS", "longest wait between looks into the mailbox", rt}, &f.pollInterval)
	f.staleAfter.D = probe.DefaultStaleAfter
	add(option{"", "stale-after", nil, "SECONDS", "delete this installation's probes older than this (left by failed runs)", rt}, &f.staleAfter)
	return opts
}

// given records which options the command line set, by long name.
func (f *flags) given(fs *flag.FlagSet, opts []option) {
	long := map[string]string{}
	for _, o := range opts {
		for _, n := range append([]string{o.short, o.long}, o.aliases...) {
			if n != "" {
				long[n] = o.long
			}
		}
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[long[fl.Name]] = true })
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
