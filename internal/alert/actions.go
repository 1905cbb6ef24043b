package alert

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/keyfile"
	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// Actions builds the action of a stored alert definition (a webhook, an
// e-mail through a relay, a command) from its settings and its sealed
// secrets.
type Actions struct {
	Vault           *vault.Vault
	InstallationKey keyfile.Key // the installation's: never in a command's output
	// MonitorSecrets are what a command's output must not show for a
	// monitor: the engine knows them for the monitors it loaded. nil: the
	// installation's secret alone.
	MonitorSecrets func(monitorID int64) []string
	// Egress is where a webhook URL or a relay set over the network may
	// lead (nil: egress.Default()); Resolver resolves its name (nil: the
	// system's).
	Egress   *egress.Policy
	Resolver *net.Resolver
	// Repost is how often a firing Alertmanager alert is posted again
	// (0: DefaultRepost); each post fires for three times as long.
	Repost time.Duration
}

// DefaultRepost is how often a firing Alertmanager alert is posted again:
// well within Alertmanager's resolve_timeout (5 min by default).
const DefaultRepost = 2 * time.Minute

func (x *Actions) repost() time.Duration {
	if x.Repost <= 0 {
		return DefaultRepost
	}
	return x.Repost
}

// Notifier builds the action of alert a, for a notification about monitor
// monitorID.
func (x *Actions) Notifier(a *store.Alert, monitorID int64) (Notifier, error) {
	var spec config.Alert
	if err := json.Unmarshal(a.Spec, &spec); err != nil {
		return nil, err
	}
	switch {
	case spec.Webhook != nil:
		u, err := x.secret(a, "webhook.url")
		if err != nil {
			return nil, err
		}
		p := x.poster(a, "webhook")
		w := &Webhook{URL: u, Format: spec.Webhook.Format, Method: spec.Webhook.Method, Body: spec.Webhook.Body, Egress: p.Egress, Resolver: p.Resolver}
		for name := range a.Secrets {
			if h, ok := strings.CutPrefix(name, config.HeaderSecret); ok {
				v, err := x.secret(a, name)
				if err != nil {
					return nil, err
				}
				if w.Headers == nil {
					w.Headers = http.Header{}
				}
				w.Headers.Set(h, v)
			}
		}
		return w, nil
	case spec.Command != nil:
		secrets := append(x.alertSecrets(a), x.monitorSecrets(monitorID)...)
		return &Command{Argv: spec.Command.Argv, Timeout: spec.Command.Timeout.D(), Secrets: secrets}, nil
	case spec.Email != nil:
		em := spec.Email
		relay := config.Monitor{SMTP: &em.Relay}
		cfg := *relay.ProbeConfig(em.Relay.Host).SMTP
		if v, ok := a.Secrets["relay.password"]; ok {
			pw, err := x.open(v, vault.AlertRecord(a.ID, "relay.password"))
			if err != nil {
				return nil, err
			}
			cfg.Password = probe.Password(pw)
		}
		cfg.OAuthToken = oauth.Source{}
		if a.NetworkTarget { // a relay set over the network
			cfg.Egress, cfg.Resolver = x.egress(), x.Resolver
		}
		from := em.From
		if from == "" {
			from = em.Relay.User
		}
		return &Email{Relay: cfg, From: from, To: em.To, Subject: em.Subject, Body: em.Body}, nil
	case spec.Alertmanager != nil:
		return &Alertmanager{URL: spec.Alertmanager.URL, FiringFor: 3 * x.repost(), poster: x.poster(a, "alertmanager")}, nil
	case spec.PagerDuty != nil:
		key, err := x.secret(a, "pagerduty.routing_key")
		if err != nil {
			return nil, err
		}
		return &PagerDuty{URL: spec.Target(), RoutingKey: key, poster: x.poster(a, "pagerduty")}, nil
	case spec.Opsgenie != nil:
		key, err := x.secret(a, "opsgenie.api_key")
		if err != nil {
			return nil, err
		}
		return &Opsgenie{URL: spec.Target(), APIKey: key, poster: x.poster(a, "opsgenie")}, nil
	case spec.IsChannel() || a.Kind == "url":
		u, err := x.secret(a, "url")
		if err != nil {
			return nil, err
		}
		return &Channel{URL: u, poster: x.poster(a, config.ChannelService(u))}, nil
	}
	return nil, fmt.Errorf("alert %q has no action", a.Name)
}

// poster is how alert a's action talks HTTP: held to the egress policy
// when its target was set over the network.
func (x *Actions) poster(a *store.Alert, what string) poster {
	p := poster{What: what}
	if a.NetworkTarget {
		p.Egress, p.Resolver = x.egress(), x.Resolver
	}
	return p
}

// secret opens alert a's sealed secret name.
func (x *Actions) secret(a *store.Alert, name string) (string, error) {
	v, ok := a.Secrets[name]
	if !ok {
		return "", fmt.Errorf("alert %q: its %s is not set", a.Name, name)
	}
	return x.open(v, vault.AlertRecord(a.ID, name))
}

func (x *Actions) egress() *egress.Policy {
	if x.Egress == nil {
		return egress.Default()
	}
	return x.Egress
}

func (x *Actions) open(sealed, record string) (string, error) {
	if x.Vault == nil {
		return "", errors.New("no vault to open secrets with")
	}
	b, err := x.Vault.Open(sealed, record)
	return string(b), err
}

// alertSecrets are an alert's opened secrets and the installation's.
func (x *Actions) alertSecrets(a *store.Alert) []string {
	out := []string{string(x.InstallationKey)}
	for name, sealed := range a.Secrets {
		if v, err := x.open(sealed, vault.AlertRecord(a.ID, name)); err == nil {
			out = append(out, v)
		}
	}
	return out
}

func (x *Actions) monitorSecrets(id int64) []string {
	if x.MonitorSecrets == nil {
		return []string{string(x.InstallationKey)}
	}
	return x.MonitorSecrets(id)
}
