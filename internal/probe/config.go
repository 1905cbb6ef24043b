package probe

import (
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/sasl"
	"github.com/mailmon/mailmon/internal/wire"
)

// TLSMode says how a connection is secured.
type TLSMode string

// The TLS modes of every protocol leg.
const (
	TLSNone     TLSMode = "none"
	TLSOptional TLSMode = "starttls-optional" // TLS if the server offers it
	TLSStartTLS TLSMode = "starttls"          // required: missing STARTTLS fails the test
	TLSImplicit TLSMode = "implicit"          // TLS from the first byte
)

// TLSModes lists the valid modes.
func TLSModes() []TLSMode { return []TLSMode{TLSNone, TLSOptional, TLSStartTLS, TLSImplicit} }

func tlsNames() []string {
	var out []string
	for _, m := range TLSModes() {
		out = append(out, string(m))
	}
	return out
}

// Password is a password or another credential string of a leg. It never
// prints itself.
type Password string

func (Password) String() string   { return wire.Redacted }
func (Password) GoString() string { return wire.Redacted }

// MarshalText keeps secrets out of any encoding of a config.
func (Password) MarshalText() ([]byte, error) { return []byte(wire.Redacted), nil }

// Config is everything one test of one service needs.
type Config struct {
	Type    string
	Host    string
	Port    int
	TLS     TLSMode
	Timeout time.Duration // the test's maximum duration: one absolute deadline
	WarnRTT time.Duration // rtt above this turns Up into Warn; 0 = never

	CertWarnDays       int // a certificate expiring within this many days is a Warn; 0 = default, -1 = never
	CAFile             string
	RootCAs            *x509.CertPool // a caller's own roots; nil: CAFile's pool, shared (capool.go)
	ServerName         string
	InsecureSkipVerify bool
	KeyExchange        string // tls_key_exchange: "" or "default" (Go's default), "x25519" (keyexchange.go)

	User               string
	Password           Password
	Auth               string // a mechanism (PLAIN, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER, USER, APOP) or "auto"
	OAuthToken         oauth.Source
	AllowPlaintextAuth bool

	EHLOName     string // smtp
	Mailbox      string // imap: mailbox to check after login
	MailboxCheck string // imap: "status" (default) or "select" (read-only EXAMINE)
	Stat         bool   // pop3: STAT after login
	Expect       string // tcp: text the banner must contain

	// The domain-health types (package domainprobe): Host is the domain,
	// or for dnsbl, rdns and dane the address or host.
	Domain    string   // spf, dmarc, dkim, tls-rpt: the domain; "" the host
	DNSServer string   // resolver: the DNS resolver, "IP:PORT"; "" the system's (never in a test)
	Zones     []string // dnsbl: the blocklist zones; none: the default set
	Selectors []string // dkim: the selectors to check
	IPs       []string // spf: the sending addresses the record must cover
	DQSKey    Password // dnsbl: a Spamhaus DQS key, for the Spamhaus zones

	// Round trips (pop3-roundtrip, imap-roundtrip): the fields above are
	// the mailbox leg; these add the sending leg and the probe message.
	SMTP            *Config       // the SMTP leg; its Host defaults to Host
	From, To        string        // envelope and header addresses of the probe
	Monitor         string        // the monitor's name, in the probe's subject
	InstallationKey keyfile.Key   // this installation's secret: signs probes
	PollInterval    time.Duration // longest wait between looks into the mailbox
	StaleAfter      time.Duration // probes of this installation older than this are swept
	// The receiving server's Authentication-Results (authres.go of
	// package roundtrip): what a verdict other than pass does, "warn"
	// ("" too), "ignore" or "down"; whose header counts (its authserv-id;
	// "" the first header); the methods judged (none: dkim, spf, dmarc).
	AuthResults        string
	AuthResultsID      string
	AuthResultsMethods []string
	// Progress, when set, is told of each look into the mailbox.
	Progress func(attempt int, elapsed time.Duration)

	Limits   wire.Limits   // zero: wire.DefaultLimits()
	Resolver *net.Resolver // nil: the system's

	// Egress is set when the target was configured over the network (the
	// API, the web UI, /probe): every address dialled is checked against
	// it, and what the result may show of the server is limited (see
	// network.go). nil: the operator's target, not limited.
	Egress *egress.Policy
}

// Defaults fill what a monitor may leave out.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultCertWarnDays = 14
)

// FieldError is one thing wrong with a config, naming its field.
type FieldError struct {
	Field string
	Msg   string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Msg }

// ConfigError lists everything wrong with a config at once.
type ConfigError struct {
	Errs []FieldError
}

func (e *ConfigError) Error() string {
	parts := make([]string, len(e.Errs))
	for i, f := range e.Errs {
		parts[i] = f.Error()
	}
	return "invalid configuration: " + strings.Join(parts, "; ")
}

// HasCredentials reports whether the test logs in.
func (c *Config) HasCredentials() bool { return c.User != "" }

// Validate fills defaults and reports every invalid field at once; k is
// the monitor type (package kinds finds it by c.Type).
func (c *Config) Validate(k Kind) error {
	var errs []FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{field, fmt.Sprintf(format, args...)})
	}
	if c.TLS == "" {
		c.TLS = TLSNone
	}
	if c.Timeout == 0 {
		c.Timeout = k.DefaultTimeout()
	}
	if c.CertWarnDays == 0 {
		c.CertWarnDays = DefaultCertWarnDays
	}
	if c.Port == 0 {
		c.Port = k.Port(c.TLS)
	}
	if c.Limits == (wire.Limits{}) {
		c.Limits = k.Limits
		if c.Limits == (wire.Limits{}) {
			c.Limits = wire.DefaultLimits()
		}
	}
	if k.Check != nil {
		k.Check(c, bad)
	}

	if c.Host == "" {
		bad("host", "is required")
	} else if strings.ContainsAny(c.Host, " /\t\r\n") {
		bad("host", "%q is not a host name or IP address", c.Host)
	}
	switch {
	case !k.HasPort:
		if c.Port != 0 {
			bad("port", "a %s has no port", k.Name)
		}
	case c.Port == 0:
		bad("port", "is required for type %s", c.Type)
	case c.Port < 1 || c.Port > 65535:
		bad("port", "%d is not between 1 and 65535", c.Port)
	}
	if !k.KnowsTLS && c.TLS != TLSNone {
		bad("tls", "a %s knows no TLS", k.Name)
	}
	if !slices.Contains(TLSModes(), c.TLS) {
		bad("tls", "%q is not one of none, starttls-optional, starttls, implicit%s", c.TLS, DidYouMean(string(c.TLS), tlsNames()))
	}
	if c.Timeout < 0 {
		bad("timeout", "must be positive")
	}
	if c.WarnRTT < 0 {
		bad("warn", "must not be negative")
	} else if c.WarnRTT > 0 && c.WarnRTT >= c.Timeout {
		bad("warn", "%v must be shorter than the timeout %v", c.WarnRTT, c.Timeout)
	}
	if c.CertWarnDays < -1 {
		bad("cert_warn_days", "must be a number of days (or -1 for never)")
	}
	if !k.LogsIn && c.HasCredentials() {
		bad("user", "a %s check does not log in", k.Name)
	}
	if c.HasCredentials() {
		c.validateAuth(k, bad)
	} else if c.Password != "" || !c.OAuthToken.IsZero() {
		bad("user", "is required when a password or token is given")
	}
	if c.MailboxCheck != "" && c.MailboxCheck != "status" && c.MailboxCheck != "select" {
		bad("mailbox_check", "%q is not status or select%s", c.MailboxCheck, DidYouMean(c.MailboxCheck, []string{"status", "select"}))
	}
	if !k.RoundTrip && (c.AuthResults != "" || c.AuthResultsID != "" || len(c.AuthResultsMethods) > 0) {
		bad("auth_results", "applies to round trips only: they judge the Authentication-Results of the probe message")
	}
	if c.Mailbox != "" && k.Protocol != "imap" {
		bad("mailbox", "applies to imap only")
	}
	if c.Mailbox != "" && !c.HasCredentials() {
		bad("mailbox", "needs user and password: a mailbox is checked after login")
	}
	if c.Stat && !c.HasCredentials() {
		bad("stat", "needs user and password: STAT comes after login")
	}
	if msg := CheckKeyExchange(c.KeyExchange); msg != "" {
		bad("tls_key_exchange", "%s", msg)
	}
	if c.CAFile != "" && c.RootCAs == nil {
		if _, err := wire.CAPool(c.CAFile); err != nil {
			bad("ca", "%v", err)
		}
	}
	if len(errs) > 0 {
		return &ConfigError{Errs: errs}
	}
	return nil
}

// AuthChoices are the mechanisms an operator may choose for a protocol's
// login (besides auto): USER and APOP are POP3's alone.
func AuthChoices(protocol string) []string {
	out := []string{"PLAIN", "LOGIN", "CRAM-MD5"}
	if protocol == "pop3" {
		out = append(out, "USER", "APOP")
	}
	return append(out, "XOAUTH2", "OAUTHBEARER")
}

func (c *Config) validateAuth(k Kind, bad func(field, format string, args ...any)) {
	mech := strings.ToUpper(c.Auth)
	token := !c.OAuthToken.IsZero()
	switch mech {
	case "", "AUTO":
	case "USER", "APOP":
		if k.Protocol != "pop3" {
			bad("auth", "%s is a POP3 mechanism", mech)
		}
	case "LOGIN":
		// SASL LOGIN for SMTP and POP3; the LOGIN command for IMAP.
	default:
		if !sasl.Known(mech) {
			bad("auth", "%q is not one of auto, PLAIN, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER, USER, APOP%s", c.Auth,
				DidYouMean(c.Auth, []string{"auto", "PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER", "USER", "APOP"}))
		}
	}
	oauthMech := mech == sasl.XOAuth2 || mech == sasl.OAuthBearer
	switch {
	case oauthMech && !token:
		bad("oauth_token", "%s needs a token file, a command or a token endpoint (oauth)", mech)
	case token && mech != "" && mech != "AUTO" && !oauthMech:
		bad("auth", "an oauth token is used with XOAUTH2 or OAUTHBEARER, not %s", mech)
	case !token && c.Password == "":
		bad("password", "is required when user is set")
	}
	if c.OAuthToken.File != "" && len(c.OAuthToken.Command) > 0 {
		bad("oauth_token", "give a token file or a command, not both")
	}
	if f := c.OAuthToken.Flow; f != nil {
		if c.OAuthToken.File != "" || len(c.OAuthToken.Command) > 0 {
			bad("oauth_token", "give a token file, a command or a token endpoint (oauth), one of them")
		}
		if err := oauth.CheckTokenURL(f.TokenURL); err != nil {
			bad("oauth.token_url", "%v", err)
		}
		switch {
		case f.ServiceAccountKey != "": // Google's JWT grant: the key names its account
			if f.Subject == "" {
				bad("oauth.subject", "is required with a service account: the mailbox's user it acts as (or give user)")
			}
		case f.ClientID == "":
			bad("oauth.client_id", "is required: the application (client) id of the app registration")
		}
		if f.ClientSecret == "" && f.RefreshToken == "" && f.ServiceAccountKey == "" {
			bad("oauth.client_secret", "is required: the client secret, or a refresh token from \"mailmon oauth login\"")
		}
	}
	// With tls none no credential of any form may be sent (authPolicy):
	// a digest mechanism is no way round it.
	if c.TLS == TLSNone && !c.AllowPlaintextAuth {
		bad("allow_plaintext_auth", "credentials would cross the network unencrypted with tls none, in any form "+
			"(a CRAM-MD5 or APOP digest too); use tls starttls or implicit, or set allow_plaintext_auth to send them anyway")
	}
}
