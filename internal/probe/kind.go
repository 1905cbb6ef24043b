package probe

import (
	"slices"
	"time"

	"github.com/mailmon/mailmon/internal/wire"
)

// Kind is one monitor type: everything the rest of mailmon needs to know of
// it. Each prober package declares its own (smtpprobe.Kind, …) and package
// kinds lists them; config validation, the CLI, the web form, discovery and
// /probe read them from there. A new type is a package and a line in kinds.
type Kind struct {
	Name    string // in the configuration, the API and the CLI: "smtp", "pop3-roundtrip"
	Title   string // for people: "SMTP", "POP3 round trip"
	Seed    string // the name the founding documents give it: "SMTP monitor"
	Summary string // one line: what a test does

	// Protocol is the mail protocol it logs in with (a round trip's is its
	// mailbox's): smtp, pop3 or imap; "" for none.
	Protocol  string
	Ports     Ports // well-known ports by TLS mode; zero: none, the port is required
	HasPort   bool  // false: it knows only a host (ping)
	KnowsTLS  bool
	LogsIn    bool // it may log in (user, password or token, auth)
	RoundTrip bool // it sends a probe message over SMTP and finds it in a mailbox
	TokenOnly bool // it logs in with an OAuth token alone (Graph): nothing to test without a stored monitor

	// SmallTrace: a test records a few transcript lines and phases (a
	// tcp check's connection and banner): its trace is made small.
	SmallTrace bool

	Timeout time.Duration // the default maximum duration of a test; 0: DefaultTimeout
	Limits  wire.Limits   // the default read limits; zero: wire.DefaultLimits()

	// Services are the well-known services discovery looks for it on;
	// none: discovery does not propose it for a service.
	Services []Service
	// Fields are its own settings, which the web form shows for it alone
	// (by their names in the configuration: ehlo, mailbox, stat, expect).
	Fields []string

	// Check validates and fills what is its own (a round trip's SMTP leg,
	// addresses and secret), once the common defaults are filled; nil:
	// nothing.
	Check func(c *Config, bad func(field, format string, args ...any))
	// Probe tests one service of this kind.
	Probe Prober
}

// Ports are a protocol's well-known ports.
type Ports struct {
	Plain    int // without TLS or with STARTTLS
	Implicit int // with TLS from the first byte
}

// Service is a well-known service, by its IANA name.
type Service struct {
	Name     string // smtp, smtps, submission, …
	Port     int
	Implicit bool // TLS from the first byte
}

// Port is the kind's well-known port in a TLS mode; 0 when it has none.
func (k Kind) Port(mode TLSMode) int {
	if mode == TLSImplicit {
		return k.Ports.Implicit
	}
	return k.Ports.Plain
}

// DefaultTimeout is the default maximum duration of one test.
func (k Kind) DefaultTimeout() time.Duration {
	if k.Timeout > 0 {
		return k.Timeout
	}
	return DefaultTimeout
}

// Shows reports whether field is one of the kind's own settings.
func (k Kind) Shows(field string) bool { return slices.Contains(k.Fields, field) }
