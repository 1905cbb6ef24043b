package config

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/recovery"
)

// FieldError is a problem with one field, by its path.
type FieldError struct {
	Path string
	Msg  string
}

// Timing defaults, by kind of monitor.
const (
	DefaultUpEvery   = time.Minute
	DefaultDownEvery = 20 * time.Second
	DefaultLostEvery = 5 * time.Minute

	DefaultRoundTripUpEvery   = 5 * time.Minute
	DefaultRoundTripDownEvery = time.Minute
	DefaultRoundTripLostEvery = 15 * time.Minute
)

// ApplyDefaults fills what a monitor may leave out.
func (m *Monitor) ApplyDefaults() {
	k, _ := kinds.Lookup(m.Type)
	set := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	set(&m.Timing.MaxDuration, k.DefaultTimeout())
	if k.RoundTrip {
		set(&m.Timing.UpEvery, DefaultRoundTripUpEvery)
		set(&m.Timing.DownEvery, DefaultRoundTripDownEvery)
		set(&m.Timing.LostEvery, DefaultRoundTripLostEvery)
	} else {
		set(&m.Timing.UpEvery, DefaultUpEvery)
		set(&m.Timing.DownEvery, DefaultDownEvery)
		set(&m.Timing.LostEvery, DefaultLostEvery)
	}
	if m.Notify.FailuresPerAlert == 0 {
		m.Notify.FailuresPerAlert = 3
	}
	if m.Notify.MaxAlerts == 0 {
		m.Notify.MaxAlerts = 5
	}
	m.applyOAuthDefaults()
	if m.TLS == "" {
		m.TLS = string(probe.TLSNone)
	}
	if k.RoundTrip {
		m.From, m.To = RoundTripAddresses(m.User, m.From, m.To)
	}
}

// RoundTripAddresses are a round trip's sender and recipient when left
// out: the mailbox's user (when it is an address) receives, and sends to
// itself.
func RoundTripAddresses(user, from, to string) (string, string) {
	if to == "" && strings.Contains(user, "@") {
		to = user
	}
	if from == "" {
		from = to
	}
	return from, to
}

// IsEnabled reports whether the monitor is tested.
func (m *Monitor) IsEnabled() bool { return m.Enabled == nil || *m.Enabled }

func checkName(add func(path, format string, args ...any), path, name string) {
	if err := CheckName(name); err != nil {
		add(path, "%v", err)
	}
}

// Validate checks the whole file and fills defaults; it returns every
// problem, each by its field's path.
func (f *File) Validate() []FieldError {
	var errs []FieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{path, fmt.Sprintf(format, args...)})
	}
	creds := map[string]*Credential{}
	for i := range f.Credentials {
		c := &f.Credentials[i]
		p := fmt.Sprintf("credentials[%d]", i)
		checkName(add, p+".name", c.Name)
		if creds[c.Name] != nil {
			add(p+".name", "credential %q is defined twice", c.Name)
		}
		creds[c.Name] = c
		c.validate(p, add)
	}
	alertNames := map[string]bool{}
	for i := range f.Alerts {
		a := &f.Alerts[i]
		p := fmt.Sprintf("alerts[%d]", i)
		checkName(add, p+".name", a.Name)
		if alertNames[a.Name] {
			add(p+".name", "%q is defined twice", a.Name)
		}
		alertNames[a.Name] = true
		a.validate(p, add)
	}
	for i := range f.Alerts {
		a := &f.Alerts[i]
		p := fmt.Sprintf("alerts[%d]", i)
		if a.Escalate != nil {
			a.Escalate.check(p+".escalate", a.Name, alertNames, add)
		}
		if a.Schedule != nil {
			a.Schedule.check(p+".schedule", add)
		}
	}
	devNames := map[string]bool{}
	for i := range f.Devices {
		d := &f.Devices[i]
		p := fmt.Sprintf("devices[%d]", i)
		checkName(add, p+".name", d.Name)
		if devNames[d.Name] {
			add(p+".name", "device %q is defined twice", d.Name)
		}
		devNames[d.Name] = true
		if d.Address == "" || strings.ContainsAny(d.Address, " /\t\r\n") {
			add(p+".address", "a host name or IP address is required")
		}
		checkWindows(p, d.Maintenance, add)
		monNames := map[string]bool{}
		for j := range d.Monitors {
			m := &d.Monitors[j]
			mp := fmt.Sprintf("%s.monitors[%d]", p, j)
			checkName(add, mp+".name", m.Name)
			if monNames[m.Name] {
				add(mp+".name", "monitor %q is defined twice on device %q", m.Name, d.Name)
			}
			monNames[m.Name] = true
			m.validate(mp, d, add)
			m.validateRecovery(mp, creds, add)
			for k, a := range m.Notify.Alerts {
				if !alertNames[a] {
					add(fmt.Sprintf("%s.notify.alerts[%d]", mp, k), "no alert is named %q", a)
				}
			}
			if m.Notify.Escalate != nil {
				m.Notify.Escalate.check(mp+".notify.escalate", "", alertNames, add)
			}
		}
		for j := range d.Monitors {
			m := &d.Monitors[j]
			for k, dep := range m.DependsOn {
				if !monNames[dep] || dep == m.Name {
					add(fmt.Sprintf("%s.monitors[%d].depends_on[%d]", p, j, k), "no other monitor of device %q is named %q", d.Name, dep)
				}
			}
		}
		if cyc := cycle(d.Monitors); cyc != "" {
			add(p+".monitors", "dependencies form a cycle: %s", cyc)
		}
	}
	f.validateStatusPages(add)
	return errs
}

func (a *Alert) validate(p string, add func(path, format string, args ...any)) {
	n := 0
	for _, set := range []bool{a.Webhook != nil, a.Email != nil, a.Command != nil, a.Alertmanager != nil, a.PagerDuty != nil, a.Opsgenie != nil, a.IsChannel()} {
		if set {
			n++
		}
	}
	if n != 1 {
		add(p, "an alert is exactly one of webhook, email, command, alertmanager, pagerduty, opsgenie or url")
		return
	}
	a.validatePaging(p, add)
	switch {
	case a.IsChannel():
		// {env} and {file} are checked once apply resolves them.
		if u := a.URL.Value; u != "" {
			if _, err := CheckChannelURL(u); err != nil {
				add(p+".url", "%v", err)
			}
		} else if a.Service != "" && !slices.Contains(ChannelServices, a.Service) {
			add(p+".service", "%q is not one of %s", a.Service, strings.Join(ChannelServices, ", "))
		}
	case a.Webhook != nil:
		// {env} and {file} are checked once apply resolves them; none at
		// all is left to apply too (an exported file has no secrets).
		if u := a.Webhook.URL.Value; u != "" {
			if err := CheckWebhookURL(u); err != nil {
				add(p+".webhook.url", "%v", err)
			}
		}
		formats := []string{"generic", "slack", "teams", "teams-workflows"}
		if f := a.Webhook.Format; f != "" && !slices.Contains(formats, f) {
			add(p+".webhook.format", "%q is not generic, slack, teams or teams-workflows%s", f, probe.DidYouMean(f, formats))
		}
		a.Webhook.validateTemplate(p, add)
	case a.Email != nil:
		if len(a.Email.To) == 0 {
			add(p+".email.to", "at least one recipient is required")
		}
		relay := a.Email.Relay.probeConfig("smtp")
		if relay.User != "" {
			relay.Password = "placeholder" // as for monitors: apply checks it exists
		}
		if relay.Host == "" {
			add(p+".email.relay.host", "is required")
		} else {
			probeErrors(relay, p+".email.relay", add)
		}
	case a.Command != nil:
		if len(a.Command.Argv) == 0 {
			add(p+".command.argv", "the program and its arguments are required")
		}
		if a.Command.Timeout < 0 {
			add(p+".command.timeout", "must be positive")
		}
	}
}

// CheckWebhookURL says whether u can be a webhook's URL, without quoting
// it: the URL is a secret.
func CheckWebhookURL(u string) error {
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
		return errors.New("is not an http(s) URL (like https://hooks.example.com/…)")
	}
	return nil
}

func (m *Monitor) validate(p string, d *Device, add func(path, format string, args ...any)) {
	if _, ok := kinds.Lookup(m.Type); !ok {
		add(p+".type", "%q is not one of %s%s", m.Type, strings.Join(kinds.Names(), ", "), probe.DidYouMean(m.Type, kinds.Names()))
		return
	}
	m.ApplyDefaults()
	t := m.Timing
	for _, iv := range []struct {
		name string
		d    Duration
	}{{"max_duration", t.MaxDuration}, {"up_every", t.UpEvery}, {"down_every", t.DownEvery}, {"lost_every", t.LostEvery}} {
		if iv.d <= 0 {
			add(p+".timing."+iv.name, "must be positive")
		}
	}
	if t.MaxDuration >= t.UpEvery {
		add(p+".timing.max_duration", "%v must be shorter than up_every (%v)", t.MaxDuration.D(), t.UpEvery.D())
	}
	if m.Notify.FailuresPerAlert < 1 {
		add(p+".notify.failures_per_alert", "must be at least 1")
	}
	if m.Notify.MaxAlerts < 1 {
		add(p+".notify.max_alerts", "must be at least 1")
	}
	checkWindows(p, m.Maintenance, add)
	if m.Password.Set() && m.User == "" {
		add(p+".user", "is required when a password is given")
	}
	if m.DQSKey.Set() && m.Type != "dnsbl" {
		add(p+".dqs_key", "applies to dnsbl monitors only: it is a Spamhaus DQS key for the blocklist lookups")
	}
	if l := m.Locations; l != nil {
		if l.Require < 1 {
			add(p+".locations.require", "must be at least 1 (the locations that must fail at once for Down)")
		}
		if len(l.At) > 0 && l.Require > len(l.At) {
			add(p+".locations.require", "%d is more than the %d locations in at", l.Require, len(l.At))
		}
		for k, name := range l.At {
			if err := CheckLocation(name); err != nil {
				add(fmt.Sprintf("%s.locations.at[%d]", p, k), "%v", err)
			} else if slices.Contains(l.At[:k], name) {
				add(fmt.Sprintf("%s.locations.at[%d]", p, k), "%q is listed twice", name)
			}
		}
	}
	cfg := m.ProbeConfig(d.Address)
	// Secrets are not resolved here, and one left out may already be
	// stored (an exported file has none): a placeholder stands in so that
	// the probe's own validation can run; apply checks that a secret exists.
	if cfg.User != "" {
		cfg.Password = "placeholder"
	}
	if cfg.SMTP != nil && cfg.SMTP.User != "" {
		cfg.SMTP.Password = "placeholder"
	}
	if m.DQSKey.Value != "" { // a literal is checked here, {env}/{file} once read (catalog)
		cfg.DQSKey = probe.Password(m.DQSKey.Value)
	}
	if m.OAuth != nil {
		cfg.Password = ""
		cfg.OAuthToken.Flow = m.OAuth.placeholderFlow(m.Type, cfg.User)
		if !m.OAuth.validate(p, add) {
			cfg.OAuthToken.Flow = &oauth.Flow{TokenURL: "https://placeholder.invalid/", ClientID: "placeholder", ClientSecret: "placeholder"}
		}
		if cfg.SMTP != nil && cfg.SMTP.OAuthToken.Flow != nil && m.SMTP.OAuth == nil {
			cfg.SMTP.Password, cfg.SMTP.OAuthToken = "", cfg.OAuthToken
		}
	}
	if m.SMTP != nil && m.SMTP.OAuth != nil {
		m.SMTP.validateOAuth(p+".smtp", cfg.SMTP, add)
	}
	cfg.InstallationKey = keyfile.Key("validation-placeholder-secret")
	probeErrors(cfg, p, add)
}

// validate checks a credential. Both a password and a key is an error;
// neither is left to apply, since an exported file has no secrets and the
// stored one stands (a new credential needs one).
func (c *Credential) validate(p string, add func(path, format string, args ...any)) {
	if c.User == "" || strings.ContainsAny(c.User, "@ \t\r\n") {
		add(p+".user", "a user name is required (no spaces or @)")
	}
	if c.Password.Set() && c.Key.Set() {
		add(p+".key", "a credential is a password or a key, not both")
	}
	if c.KnownHost == "" {
		add(p+".known_host", "the server's public host key is required (like \"ssh-ed25519 AAAA…\"); host keys are always checked")
	} else if _, err := recovery.ParseKnownHost(c.KnownHost); err != nil {
		add(p+".known_host", "%v", err)
	}
}

// validateRecovery checks the monitor's recovery actions: one over SSH
// names a credential, and a credential is only for SSH.
func (m *Monitor) validateRecovery(p string, creds map[string]*Credential, add func(path, format string, args ...any)) {
	for k, r := range m.Recovery {
		rp := fmt.Sprintf("%s.recovery[%d]", p, k)
		if len(r.Command) == 0 {
			add(rp+".command", "the program and its arguments are required")
		}
		if r.Timeout < 0 {
			add(rp+".timeout", "must be positive")
		}
		switch {
		case r.SSH == "" && r.Credential != "":
			add(rp+".ssh", "is required when a credential is given (user@host[:port])")
		case r.SSH != "" && r.Credential == "":
			add(rp+".credential", "is required for a recovery over SSH")
		case r.SSH != "":
			user, _, err := recovery.SSHTarget(r.SSH)
			if err != nil {
				add(rp+".ssh", "%v", err)
			}
			c := creds[r.Credential]
			if c == nil {
				add(rp+".credential", "no credential is named %q", r.Credential)
			} else if err == nil && user != "" && user != c.User {
				add(rp+".ssh", "user %q is not credential %q's user %q", user, c.Name, c.User)
			}
		}
	}
}

// probeErrors runs the probe's validation and reports its errors under the
// YAML names.
func probeErrors(cfg probe.Config, p string, add func(path, format string, args ...any)) {
	err := kinds.Validate(&cfg)
	var ce *probe.ConfigError
	if !errors.As(err, &ce) {
		return
	}
	for _, fe := range ce.Errs {
		add(p+"."+yamlField(fe.Field), "%s", fe.Msg)
	}
}

// yamlField maps a probe config field to its name in the YAML.
func yamlField(f string) string {
	if leg, ok := strings.CutPrefix(f, "smtp."); ok {
		return "smtp." + yamlField(leg)
	}
	switch f {
	case "timeout":
		return "timing.max_duration"
	case "warn":
		return "timing.warn_rtt"
	case "oauth_token":
		return "oauth_token_file"
	case "oauth.client_id", "oauth.token_url", "oauth.client_secret":
		return f
	case "host":
		return "address"
	}
	return f
}

// cycle returns a dependency cycle among monitors, or "".
func cycle(ms []Monitor) string {
	deps := map[string][]string{}
	for _, m := range ms {
		for _, d := range m.DependsOn {
			if d != m.Name { // a self-dependency is reported on its own
				deps[m.Name] = append(deps[m.Name], d)
			}
		}
	}
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var found string
	var visit func(n string) bool
	visit = func(n string) bool {
		color[n] = grey
		stack = append(stack, n)
		for _, d := range deps[n] {
			if color[d] == grey {
				i := slices.Index(stack, d)
				found = strings.Join(append(append([]string(nil), stack[i:]...), d), " → ")
				return true
			}
			if color[d] == white && visit(d) {
				return true
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
		return false
	}
	for _, m := range ms {
		if color[m.Name] == white && visit(m.Name) {
			return found
		}
	}
	return ""
}

// CheckLocation checks a location label (a node's --location, a monitor's
// locations.at): 1–32 of a-z, 0-9, '.', '_', '-'.
func CheckLocation(name string) error {
	if name == "" || len(name) > 32 || strings.TrimLeft(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") != "" {
		return fmt.Errorf("location %q: 1 to 32 of a-z, 0-9, '.', '_', '-'", name)
	}
	return nil
}
