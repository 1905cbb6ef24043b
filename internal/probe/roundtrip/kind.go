package roundtrip

import (
	"errors"
	"net/mail"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/graphprobe"
	"github.com/mailmon/mailmon/internal/probe/imapprobe"
	"github.com/mailmon/mailmon/internal/probe/pop3probe"
	"github.com/mailmon/mailmon/internal/probe/smtpprobe"
	"github.com/mailmon/mailmon/internal/wire"
)

// The round trips' names.
const (
	POP3Name  = "pop3-roundtrip"
	IMAPName  = "imap-roundtrip"
	GraphName = "graph-roundtrip"
)

// Round-trip defaults.
const (
	DefaultTimeout      = 60 * time.Second
	DefaultPollInterval = probe.DefaultPollInterval
	DefaultStaleAfter   = probe.DefaultStaleAfter
)

// POP3Kind is the pop3-roundtrip monitor type.
func POP3Kind() probe.Kind {
	k := kind(pop3probe.Kind())
	k.Name, k.Title, k.Seed = POP3Name, "POP3 round trip", "POP3 - User Experience monitor"
	k.Summary = "Sends a probe message over SMTP and finds it again over POP3, then deletes it."
	k.Probe = ProbePOP3
	return k
}

// IMAPKind is the imap-roundtrip monitor type.
func IMAPKind() probe.Kind {
	k := kind(imapprobe.Kind())
	k.Name, k.Title, k.Seed = IMAPName, "IMAP4 round trip", "IMAP4 - User Experience monitor"
	k.Summary = "Sends a probe message over SMTP and finds it again over IMAP (junk folder too), then deletes it."
	k.Fields = []string{"mailbox"}
	k.Probe = ProbeIMAP
	return k
}

// GraphKind is the graph-roundtrip monitor type: the mailbox read over
// Microsoft Graph, the probe sent with Graph's sendMail (or over an SMTP
// leg, when one is given).
func GraphKind() probe.Kind {
	k := kind(graphprobe.Kind())
	k.Name, k.Title, k.Seed = GraphName, "Microsoft Graph round trip", "Microsoft 365 - User Experience monitor (Graph)"
	k.Summary = "Sends a probe message with Graph's sendMail (or SMTP) and finds it again over Graph (Junk Email too), then deletes it."
	k.Limits = wire.Limits{}
	k.Check = func(c *probe.Config, bad func(field, format string, args ...any)) {
		graphprobe.Check(c, bad)
		check(c, bad)
	}
	k.Probe = ProbeGraph
	return k
}

// kind is a round trip that reads its mailbox as mb does: its protocol and
// ports, a login always, the SMTP leg, and time and room for the wait.
func kind(mb probe.Kind) probe.Kind {
	return probe.Kind{
		Protocol: mb.Protocol, Ports: mb.Ports,
		HasPort: true, KnowsTLS: true, LogsIn: true, RoundTrip: true,
		Timeout: DefaultTimeout,
		// A round trip reads the headers of up to 100 messages.
		Limits: wire.Limits{MaxLine: 16 << 10, MaxBytes: 32 << 20, MaxReplyLines: 20000},
		Check:  check,
	}
}

// check validates what a round trip adds to the mailbox leg: the login it
// needs, the probe's addresses, the secret that signs it, the waits, and
// the SMTP leg, which takes the mailbox's host, budget, resolver, egress
// policy and cert_warn_days unless it has its own.
func check(c *probe.Config, bad func(field, format string, args ...any)) {
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.StaleAfter == 0 {
		c.StaleAfter = DefaultStaleAfter
	}
	if !c.HasCredentials() {
		bad("user", "is required: a round trip logs in to the mailbox")
	}
	for _, a := range []struct{ field, addr string }{{"from", c.From}, {"to", c.To}} {
		if _, err := mail.ParseAddress(a.addr); err != nil || strings.ContainsAny(a.addr, "<>\r\n ") {
			bad(a.field, "%q is not an e-mail address", a.addr)
		}
	}
	if len(c.InstallationKey) < keyfile.MinLen {
		bad("secret", "this installation's secret is missing or shorter than %d bytes", keyfile.MinLen)
	}
	if c.PollInterval < 0 || c.PollInterval >= c.Timeout {
		bad("poll_interval", "%v must be positive and shorter than the timeout %v", c.PollInterval, c.Timeout)
	}
	if c.StaleAfter < time.Minute {
		bad("stale_after", "%v is too short: probes younger than a minute may still be in flight", c.StaleAfter)
	}
	checkAuth(c, bad)
	if len(c.Monitor) > 64 || strings.ContainsAny(c.Monitor, "\r\n") {
		bad("name", "a monitor name is 1-64 characters on one line")
	}
	if c.SMTP == nil {
		if c.Type != GraphName { // Graph sends with sendMail
			bad("smtp", "the SMTP leg is required")
		}
		return
	}
	leg := c.SMTP
	leg.Type = smtpprobe.Name
	if leg.Host == "" {
		leg.Host = c.Host
	}
	if leg.Timeout == 0 || leg.Timeout > c.Timeout {
		leg.Timeout = c.Timeout
	}
	if leg.Resolver == nil {
		leg.Resolver = c.Resolver
	}
	if leg.Egress == nil {
		leg.Egress = c.Egress
	}
	if leg.CertWarnDays == 0 { // the monitor's cert_warn_days judges both legs
		leg.CertWarnDays = c.CertWarnDays
	}
	if err := leg.Validate(probe.SMTPKind()); err != nil {
		var ce *probe.ConfigError
		if errors.As(err, &ce) {
			for _, f := range ce.Errs {
				bad("smtp."+f.Field, "%s", f.Msg)
			}
		}
	}
}
