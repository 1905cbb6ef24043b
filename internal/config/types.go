// Package config is mailmon's declarative configuration: the YAML that
// "mailmon apply" reads and "mailmon export" writes (docs/configuration.md), strict
// decoding, defaults, and validation that reports every error at once with
// its file position and field.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mailmon/mailmon/internal/probe"
)

// File is one configuration file.
type File struct {
	Credentials []Credential `yaml:"credentials,omitempty" json:"credentials,omitempty"`
	Alerts      []Alert      `yaml:"alerts,omitempty" json:"alerts,omitempty"`
	Devices     []Device     `yaml:"devices,omitempty" json:"devices,omitempty"`
	StatusPages []StatusPage `yaml:"status_pages,omitempty" json:"status_pages,omitempty"`
}

// Credential is a named login to a host over SSH, reused by recovery
// actions: a user, a password or a private key, and the host key the
// server must present (it is always checked).
type Credential struct {
	Name      string    `yaml:"name" json:"name"`
	User      string    `yaml:"user" json:"user"`
	Password  SecretRef `yaml:"password,omitempty" json:"-"`
	Key       SecretRef `yaml:"key,omitempty" json:"-"`       // a PEM private key
	KnownHost string    `yaml:"known_host" json:"known_host"` // authorized_keys format: "ssh-ed25519 AAAA…"
}

// Alert is an alert action, named.
type Alert struct {
	Name    string   `yaml:"name" json:"name"`
	Webhook *Webhook `yaml:"webhook,omitempty" json:"webhook,omitempty"`
	Email   *Email   `yaml:"email,omitempty" json:"email,omitempty"`
	Command *Command `yaml:"command,omitempty" json:"command,omitempty" operator:"command"`

	Alertmanager *Alertmanager `yaml:"alertmanager,omitempty" json:"alertmanager,omitempty"`
	PagerDuty    *PagerDuty    `yaml:"pagerduty,omitempty" json:"pagerduty,omitempty"`
	Opsgenie     *Opsgenie     `yaml:"opsgenie,omitempty" json:"opsgenie,omitempty"`

	// URL is a notification service's URL (channels.go): a secret, sealed
	// as "url". Service is its name, what the stored spec keeps of it (set
	// when saved; given alone over the API, it keeps the stored URL).
	URL     SecretRef `yaml:"url,omitempty" json:"url,omitzero"`
	Service string    `yaml:"-" json:"service,omitempty"`

	// Escalate notifies more actions when an outage this action told of
	// lasts; Schedule limits the action to weekly hours (escalate.go).
	Escalate *Escalation `yaml:"escalate,omitempty" json:"escalate,omitempty"`
	Schedule *Schedule   `yaml:"schedule,omitempty" json:"schedule,omitempty"`
}

// Kind is the alert's kind: webhook, email, command, alertmanager,
// pagerduty, opsgenie or url.
func (a *Alert) Kind() string {
	switch {
	case a.Webhook != nil:
		return "webhook"
	case a.Email != nil:
		return "email"
	case a.Command != nil:
		return "command"
	case a.Alertmanager != nil:
		return "alertmanager"
	case a.PagerDuty != nil:
		return "pagerduty"
	case a.Opsgenie != nil:
		return "opsgenie"
	case a.IsChannel():
		return "url"
	}
	return ""
}

// Webhook posts JSON. Its URL is a secret (a Slack or Teams URL is the
// credential that lets anyone post): sealed like a password, never stored
// in the clear, exported or shown. Decoded from JSON (the API) it is a
// string only, never {env} or {file}.
type Webhook struct {
	URL    SecretRef `yaml:"url,omitempty" json:"url,omitzero"`
	Format string    `yaml:"format,omitempty" json:"format,omitempty"` // generic | slack | teams | teams-workflows

	// A templated webhook: its method (POST, PUT, PATCH), headers (each
	// value a secret) and body, a text/template over the event
	// (BodyTemplate) that replaces the format's.
	Method  string        `yaml:"method,omitempty" json:"method,omitempty"`
	Headers SecretHeaders `yaml:"headers,omitempty" json:"headers,omitzero"`
	Body    string        `yaml:"body,omitempty" json:"body,omitempty"`
}

// Email sends through a relay.
type Email struct {
	To      []string `yaml:"to" json:"to"`
	From    string   `yaml:"from,omitempty" json:"from,omitempty"`
	Subject string   `yaml:"subject,omitempty" json:"subject,omitempty"`
	Body    string   `yaml:"body,omitempty" json:"body,omitempty"`
	Relay   Leg      `yaml:"relay" json:"relay"`
}

// Command runs a program (argv, no shell).
type Command struct {
	Argv    []string `yaml:"argv" json:"argv"`
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// Device is a host and its monitors.
type Device struct {
	Name    string `yaml:"name" json:"name"`
	Address string `yaml:"address" json:"address"`
	// Maintenance windows cover every monitor of the device.
	Maintenance []Window  `yaml:"maintenance,omitempty" json:"maintenance,omitempty"`
	Monitors    []Monitor `yaml:"monitors,omitempty" json:"monitors,omitempty"`
}

// Leg is a connection's settings: the SMTP leg of a round trip, an e-mail
// alert's relay.
type Leg struct {
	Host               string    `yaml:"host,omitempty" json:"host,omitempty"`
	Port               int       `yaml:"port,omitempty" json:"port,omitempty"`
	TLS                string    `yaml:"tls,omitempty" json:"tls,omitempty"`
	User               string    `yaml:"user,omitempty" json:"user,omitempty"`
	Password           SecretRef `yaml:"password,omitempty" json:"-"`
	Auth               string    `yaml:"auth,omitempty" json:"auth,omitempty"`
	CA                 string    `yaml:"ca,omitempty" json:"ca,omitempty" operator:"path"`
	ServerName         string    `yaml:"servername,omitempty" json:"servername,omitempty"`
	InsecureSkipVerify bool      `yaml:"insecure_skip_verify,omitempty" json:"insecure_skip_verify,omitempty"`
	AllowPlaintextAuth bool      `yaml:"allow_plaintext_auth,omitempty" json:"allow_plaintext_auth,omitempty"`
	// OAuth is the leg's own token endpoint (another app, tenant or
	// scope than the mailbox's); without it, an XOAUTH2/OAUTHBEARER leg
	// with no user of its own logs in with the monitor's token.
	OAuth *OAuth `yaml:"oauth,omitempty" json:"oauth,omitempty"`
}

// Monitor is one monitor: the seed's sections, flattened as docs/configuration.md
// shows them.
type Monitor struct {
	// Identification
	Name       string `yaml:"name" json:"name"`
	Type       string `yaml:"type" json:"type"`
	Enabled    *bool  `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	StoreStats *bool  `yaml:"store_stats,omitempty" json:"store_stats,omitempty"`

	// Test parameters (the mailbox leg of a round trip)
	Port              int       `yaml:"port,omitempty" json:"port,omitempty"`
	TLS               string    `yaml:"tls,omitempty" json:"tls,omitempty"`
	User              string    `yaml:"user,omitempty" json:"user,omitempty"`
	Password          SecretRef `yaml:"password,omitempty" json:"-"`
	Auth              string    `yaml:"auth,omitempty" json:"auth,omitempty"`
	OAuthTokenFile    string    `yaml:"oauth_token_file,omitempty" json:"oauth_token_file,omitempty" operator:"path"`
	OAuthTokenCommand []string  `yaml:"oauth_token_command,omitempty" json:"oauth_token_command,omitempty" operator:"command"`
	OAuth             *OAuth    `yaml:"oauth,omitempty" json:"oauth,omitempty"`
	AllowPlaintext    bool      `yaml:"allow_plaintext_auth,omitempty" json:"allow_plaintext_auth,omitempty"`
	CA                string    `yaml:"ca,omitempty" json:"ca,omitempty" operator:"path"`
	ServerName        string    `yaml:"servername,omitempty" json:"servername,omitempty"`
	Insecure          bool      `yaml:"insecure_skip_verify,omitempty" json:"insecure_skip_verify,omitempty"`
	KeyExchange       string    `yaml:"tls_key_exchange,omitempty" json:"tls_key_exchange,omitempty"`
	CertWarnDays      int       `yaml:"cert_warn_days,omitempty" json:"cert_warn_days,omitempty"`
	EHLO              string    `yaml:"ehlo,omitempty" json:"ehlo,omitempty"`
	Mailbox           string    `yaml:"mailbox,omitempty" json:"mailbox,omitempty"`
	MailboxCheck      string    `yaml:"mailbox_check,omitempty" json:"mailbox_check,omitempty"`
	Stat              bool      `yaml:"stat,omitempty" json:"stat,omitempty"`
	Expect            string    `yaml:"expect,omitempty" json:"expect,omitempty"`

	// The domain-health types (docs/domain-health.md)
	Domain    string    `yaml:"domain,omitempty" json:"domain,omitempty"`
	Resolver  string    `yaml:"resolver,omitempty" json:"resolver,omitempty"`
	Zones     []string  `yaml:"zones,omitempty" json:"zones,omitempty"`
	Selectors []string  `yaml:"selectors,omitempty" json:"selectors,omitempty"`
	IPs       []string  `yaml:"ips,omitempty" json:"ips,omitempty"`
	DQSKey    SecretRef `yaml:"dqs_key,omitempty" json:"-"` // dnsbl: a Spamhaus DQS key (secrets[SecretDQSKey])

	// Round trips
	SMTP         *Leg     `yaml:"smtp,omitempty" json:"smtp,omitempty"`
	From         string   `yaml:"from,omitempty" json:"from,omitempty"`
	To           string   `yaml:"to,omitempty" json:"to,omitempty"`
	PollInterval Duration `yaml:"poll_interval,omitempty" json:"poll_interval,omitempty"`
	StaleAfter   Duration `yaml:"stale_after,omitempty" json:"stale_after,omitempty"`
	// The receiving server's Authentication-Results verdicts: what one
	// other than pass does (warn, ignore, down), whose header counts,
	// and which methods are judged.
	AuthResults        string   `yaml:"auth_results,omitempty" json:"auth_results,omitempty"`
	AuthResultsID      string   `yaml:"auth_results_id,omitempty" json:"auth_results_id,omitempty"`
	AuthResultsMethods []string `yaml:"auth_results_methods,omitempty" json:"auth_results_methods,omitempty"`

	Timing      Timing     `yaml:"timing,omitempty" json:"timing"`
	Notify      Notify     `yaml:"notify,omitempty" json:"notify"`
	Recovery    []Recovery `yaml:"recovery,omitempty" json:"recovery,omitempty" operator:"command"`
	DependsOn   []string   `yaml:"depends_on,omitempty" json:"depends_on,omitempty"`
	Maintenance []Window   `yaml:"maintenance,omitempty" json:"maintenance,omitempty"`

	// Locations asks several locations to test the monitor (nodes on one
	// PostgreSQL database with --location); nil: one node anywhere.
	Locations *Locations `yaml:"locations,omitempty" json:"locations,omitempty"`
}

// SecretDQSKey is the name of a dnsbl monitor's Spamhaus DQS key in the
// store and the vault.
const SecretDQSKey = "dqs_key"

// Locations is K-of-N: the monitor is tested from every location in At
// (every location with a live node when At is empty), each by one node
// there, and goes Down only when Require of them fail at once; fewer
// failing leaves it Up, with the disagreement shown.
type Locations struct {
	Require int      `yaml:"require" json:"require"`
	At      []string `yaml:"at,omitempty" json:"at,omitempty"`
}

// Timing is the seed's Timing section.
type Timing struct {
	MaxDuration Duration `yaml:"max_duration,omitempty" json:"max_duration,omitempty"` // maximum test duration
	UpEvery     Duration `yaml:"up_every,omitempty" json:"up_every,omitempty"`
	DownEvery   Duration `yaml:"down_every,omitempty" json:"down_every,omitempty"` // Warn too
	LostEvery   Duration `yaml:"lost_every,omitempty" json:"lost_every,omitempty"`
	WarnRTT     Duration `yaml:"warn_rtt,omitempty" json:"warn_rtt,omitempty"`
}

// Notify is the seed's Notification Control.
type Notify struct {
	FailuresPerAlert int      `yaml:"failures_per_alert,omitempty" json:"failures_per_alert,omitempty"`
	MaxAlerts        int      `yaml:"max_alerts,omitempty" json:"max_alerts,omitempty"`
	Alerts           []string `yaml:"alerts,omitempty" json:"alerts,omitempty"`
	// Escalate notifies more actions when this monitor's outage lasts.
	Escalate *Escalation `yaml:"escalate,omitempty" json:"escalate,omitempty"`
}

// Recovery is a corrective action run when the monitor goes Down.
type Recovery struct {
	Command    []string `yaml:"command,omitempty" json:"command,omitempty"`
	SSH        string   `yaml:"ssh,omitempty" json:"ssh,omitempty"`               // [user@]host[:port]; the command runs there
	Credential string   `yaml:"credential,omitempty" json:"credential,omitempty"` // a named credential set
	Timeout    Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// Window is a maintenance window: once (start and end) or weekly (days, a
// time of day, and an end time of day or a duration), in Zone (an IANA
// name; "": the daemon's local zone).
type Window struct {
	Start    string   `yaml:"start,omitempty" json:"start,omitempty"` // RFC 3339, or HH:MM with days
	End      string   `yaml:"end,omitempty" json:"end,omitempty"`     // RFC 3339, or HH:MM with days
	Days     []string `yaml:"days,omitempty" json:"days,omitempty"`   // mon … sun
	Duration Duration `yaml:"duration,omitempty" json:"duration,omitempty"`
	Zone     string   `yaml:"zone,omitempty" json:"zone,omitempty"`
}

// Duration is a time.Duration written in Go syntax ("90s", "5m").
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalYAML reads a duration, saying where a bad one stands.
// A *yaml.TypeError lets the decoder go on to the rest of the file.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return typeError(n, "want a duration (like 30s, 5m, 1h), got %s", describe(n))
	}
	if err := d.UnmarshalText([]byte(n.Value)); err != nil {
		return typeError(n, "%v", err)
	}
	return nil
}

// typeError is a problem with one value, as the decoder collects them:
// "line N: message".
func typeError(n *yaml.Node, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: ", n.Line) + fmt.Sprintf(format, args...)}}
}

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (like 30s, 5m, 1h)", b)
	}
	*d = Duration(v)
	return nil
}

// SecretRef is a credential in a configuration, or where to find it: a
// literal string, or {env: VAR}, or {file: PATH}. It is stored encrypted and never exported.
type SecretRef struct {
	Value string
	Env   string
	File  string
}

// Set reports whether the secret was given.
func (s SecretRef) Set() bool { return s != SecretRef{} }

// IsZero is what YAML's omitempty asks: always true, so that a secret,
// set or not, is never written out (export omits secrets).
func (s SecretRef) IsZero() bool { return true }

// UnmarshalYAML reads the three forms.
func (s *SecretRef) UnmarshalYAML(n *yaml.Node) error {
	const forms = "a secret is a string, {env: VAR} or {file: PATH}"
	switch n.Kind {
	case yaml.ScalarNode:
		s.Value = n.Value
		return nil
	case yaml.MappingNode:
		var m struct {
			Env  string `yaml:"env"`
			File string `yaml:"file"`
		}
		for i := 0; i < len(n.Content); i += 2 {
			if k := n.Content[i].Value; k != "env" && k != "file" {
				hint := probe.DidYouMean(k, []string{"env", "file"})
				if hint == "" {
					hint = ";"
				}
				return typeError(n.Content[i], "unknown key %q%s %s", k, hint, forms)
			}
		}
		if err := n.Decode(&m); err != nil {
			return typeError(n, "%s", forms)
		}
		if (m.Env == "") == (m.File == "") {
			return typeError(n, "%s (one of env and file)", forms)
		}
		s.Env, s.File = m.Env, m.File
		return nil
	}
	return typeError(n, "%s", forms)
}

// ResolveAll is Resolve for a value of several lines, such as a PEM key:
// a file is read whole.
func (s SecretRef) ResolveAll(getenv func(string) string, readFile func(string) ([]byte, error)) (string, error) {
	if s.File != "" {
		b, err := readFile(s.File)
		return string(b), err
	}
	return s.Resolve(getenv, readFile)
}

// UnmarshalJSON takes a literal string: a secret given over the API is
// never read from the daemon's environment or files.
func (s *SecretRef) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return errors.New("a secret is a string")
	}
	*s = SecretRef{Value: v}
	return nil
}

// MarshalYAML never writes the secret.
func (s SecretRef) MarshalYAML() (any, error) { return nil, nil }

// String never prints the secret.
func (s SecretRef) String() string {
	switch {
	case s.Env != "":
		return "{env: " + s.Env + "}"
	case s.File != "":
		return "{file: " + s.File + "}"
	case s.Value != "":
		return "[redacted]"
	}
	return ""
}

// Resolve returns the secret's value.
func (s SecretRef) Resolve(getenv func(string) string, readFile func(string) ([]byte, error)) (string, error) {
	switch {
	case s.Env != "":
		v := getenv(s.Env)
		if v == "" {
			return "", fmt.Errorf("environment variable %s is not set", s.Env)
		}
		return v, nil
	case s.File != "":
		b, err := readFile(s.File)
		if err != nil {
			return "", err
		}
		v, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimSuffix(v, "\r"), nil
	}
	return s.Value, nil
}
