// Package apply brings the store in line with a configuration file
// ("mailmon apply -f"): credentials, devices, monitors, alerts and status
// pages are created or updated by name, idempotently, secrets sealed with
// the vault, through the catalog; and writes the store back out as a configuration ("mailmon export"),
// each secret a placeholder.
package apply

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// Change is what happened to one object: created, updated or unchanged.
type Change = catalog.Change

// Report lists what an apply did.
type Report []Change

// Env resolves secrets given as {env} or {file}.
type Env = catalog.Env

// Apply stores the file's credentials, alerts, devices and monitors through
// the catalog, as the operator (catalog.ApplyFile): by name, idempotently,
// every problem reported at once before anything is written, and written
// in transactions of about a thousand monitors. The file must have passed
// config.Parse.
//
// Unlike the API and the web UI, apply keeps a stored secret when the file
// points its record at another target (catalog/origin.go says why): an
// exported file, which has no secrets, must apply back without losing them.
func Apply(ctx context.Context, s store.Store, v *vault.Vault, f *config.File, env Env) (Report, error) {
	res, err := (&catalog.Catalog{Store: s, Vault: v}).ApplyFile(ctx, f, env)
	return Report(res.Changes), err
}

// Export reads the store back as a configuration. Secrets are never
// exported: each stored one is a placeholder, {env: MAILMON_SECRET_…}
// (config.PlaceholderName), which apply reads on a new database and which
// keeps the stored secret when its variable is not set. Assignments are
// by name.
func Export(ctx context.Context, s store.Store) (*config.File, error) {
	f := &config.File{}
	ph := placeholders{}
	for off := 0; ; off += 500 {
		cs, _, err := s.Credentials(ctx, store.Page{Limit: 500, Offset: off})
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			var cc config.Credential
			if err := json.Unmarshal(c.Spec, &cc); err != nil {
				return nil, fmt.Errorf("credential %s: %w", c.Name, err)
			}
			cc.Name = c.Name
			ph.set(&cc.Password, c.Secrets["password"], "CREDENTIAL", c.Name, "PASSWORD")
			ph.set(&cc.Key, c.Secrets["key"], "CREDENTIAL", c.Name, "KEY")
			f.Credentials = append(f.Credentials, cc)
		}
		if len(cs) < 500 {
			break
		}
	}
	alertNames := map[int64]string{}
	for off := 0; ; off += 500 {
		as, _, err := s.Alerts(ctx, store.Page{Limit: 500, Offset: off})
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			var c config.Alert
			if err := json.Unmarshal(a.Spec, &c); err != nil {
				return nil, fmt.Errorf("alert %s: %w", a.Name, err)
			}
			c.Name = a.Name
			if c.Webhook != nil {
				ph.set(&c.Webhook.URL, a.Secrets["webhook.url"], "ALERT", a.Name, "WEBHOOK_URL")
				// The headers' values are sealed apart, their names with them.
				for _, key := range slices.Sorted(maps.Keys(a.Secrets)) {
					name, ok := strings.CutPrefix(key, config.HeaderSecret)
					if !ok {
						continue
					}
					var ref config.SecretRef
					ph.set(&ref, a.Secrets[key], "ALERT", a.Name, "HEADER", name)
					if c.Webhook.Headers == nil {
						c.Webhook.Headers = map[string]config.SecretRef{}
					}
					c.Webhook.Headers[name] = ref
				}
			}
			if c.PagerDuty != nil {
				ph.set(&c.PagerDuty.RoutingKey, a.Secrets["pagerduty.routing_key"], "ALERT", a.Name, "PAGERDUTY_ROUTING_KEY")
			}
			if c.Opsgenie != nil {
				ph.set(&c.Opsgenie.APIKey, a.Secrets["opsgenie.api_key"], "ALERT", a.Name, "OPSGENIE_API_KEY")
			}
			if c.Email != nil {
				ph.set(&c.Email.Relay.Password, a.Secrets["relay.password"], "ALERT", a.Name, "RELAY_PASSWORD")
			}
			if c.IsChannel() || a.Kind == "url" {
				ph.set(&c.URL, a.Secrets["url"], "ALERT", a.Name, "URL")
			}
			alertNames[a.ID] = a.Name
			f.Alerts = append(f.Alerts, c)
		}
		if len(as) < 500 {
			break
		}
	}
	for off := 0; ; off += 500 {
		ds, _, err := s.Devices(ctx, store.Page{Limit: 500, Offset: off})
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			cd := config.Device{Name: d.Name, Address: d.Address, Maintenance: config.StoredWindows(d.Maintenance)}
			ms, _, err := s.Monitors(ctx, store.MonitorFilter{DeviceID: d.ID, Page: store.Page{Limit: 100000}})
			if err != nil {
				return nil, err
			}
			for _, m := range ms {
				var c config.Monitor
				if err := json.Unmarshal(m.Spec, &c); err != nil {
					return nil, fmt.Errorf("monitor %s/%s: %w", d.Name, m.Name, err)
				}
				c.Name, c.Type = m.Name, m.Type
				ph.set(&c.Password, m.Secrets["password"], d.Name, m.Name, "PASSWORD")
				if c.SMTP != nil {
					ph.set(&c.SMTP.Password, m.Secrets["smtp.password"], d.Name, m.Name, "SMTP_PASSWORD")
					if c.SMTP.OAuth != nil {
						ph.set(&c.SMTP.OAuth.ClientSecret, m.Secrets[config.SecretSMTPOAuthClient], d.Name, m.Name, "SMTP_OAUTH_CLIENT_SECRET")
						ph.set(&c.SMTP.OAuth.RefreshToken, m.Secrets[config.SecretSMTPOAuthRefresh], d.Name, m.Name, "SMTP_OAUTH_REFRESH_TOKEN")
						ph.set(&c.SMTP.OAuth.ServiceAccountKey, m.Secrets[config.SecretSMTPOAuthSAKey], d.Name, m.Name, "SMTP_OAUTH_SERVICE_ACCOUNT_KEY")
					}
				}
				ph.set(&c.DQSKey, m.Secrets[config.SecretDQSKey], d.Name, m.Name, "DQS_KEY")
				if c.OAuth != nil {
					ph.set(&c.OAuth.ClientSecret, m.Secrets[config.SecretOAuthClient], d.Name, m.Name, "OAUTH_CLIENT_SECRET")
					ph.set(&c.OAuth.RefreshToken, m.Secrets[config.SecretOAuthRefresh], d.Name, m.Name, "OAUTH_REFRESH_TOKEN")
					ph.set(&c.OAuth.ServiceAccountKey, m.Secrets[config.SecretOAuthSAKey], d.Name, m.Name, "OAUTH_SERVICE_ACCOUNT_KEY")
				}
				if !m.Enabled {
					off := false
					c.Enabled = &off
				}
				ids, err := s.MonitorAlerts(ctx, m.ID)
				if err != nil {
					return nil, err
				}
				c.Notify.Alerts = nil
				for _, id := range ids {
					c.Notify.Alerts = append(c.Notify.Alerts, alertNames[id])
				}
				cd.Monitors = append(cd.Monitors, c)
			}
			f.Devices = append(f.Devices, cd)
		}
		if len(ds) < 500 {
			break
		}
	}
	pages, err := s.StatusPages(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		sp, err := catalog.StatusPage(&p)
		if err != nil {
			return nil, err
		}
		f.StatusPages = append(f.StatusPages, sp)
	}
	return f, nil
}

// placeholders names the secrets of an export, each name once.
type placeholders map[string]bool

// set makes *ref a placeholder when a secret is stored (sealed: its value
// is never read here). Names that come out the same ("a-b", "a_b") are
// told apart by a number.
func (p placeholders) set(ref *config.SecretRef, sealed string, parts ...string) {
	if sealed == "" {
		return
	}
	name := config.PlaceholderName(parts...)
	for i := 2; p[name]; i++ {
		name = fmt.Sprintf("%s_%d", config.PlaceholderName(parts...), i)
	}
	p[name] = true
	*ref = config.SecretRef{Env: name}
}
