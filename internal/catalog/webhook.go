package catalog

import (
	"context"
	neturl "net/url"
	"slices"
	"strings"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// A webhook's URL is a secret (a Slack or Teams URL lets anyone post):
// sealed under "webhook.url" like a password, never in the alert's
// settings, shown only as its scheme and host.

// sealAlertSecrets seals the secrets settings give (a webhook's URL,
// PagerDuty's routing key, Opsgenie's API key: config.SealedFields) into
// a's secrets; one given none keeps the stored one, and must have one.
func (c *Catalog) sealAlertSecrets(a *store.Alert, settings config.Alert) error {
	replaceHeaders(a.Secrets, settings)
	for _, f := range settings.SealedFields() {
		if f.Ref.Value == "" {
			if a.Secrets[f.Name] == "" {
				return FieldErrors{{Path: f.Name, Msg: "is required"}}
			}
			continue
		}
		if _, err := seal(c.Vault, a.Secrets, secrets{f.Name: f.Ref.Value}, func(n string) string { return vault.AlertRecord(a.ID, n) }); err != nil {
			return err
		}
	}
	return nil
}

// replaceHeaders drops the stored headers of a webhook whose settings give
// headers and not those: the given ones replace them all.
func replaceHeaders(sealed map[string]string, settings config.Alert) {
	if settings.Webhook == nil || len(settings.Webhook.Headers) == 0 {
		return
	}
	for name := range sealed {
		if h, ok := strings.CutPrefix(name, config.HeaderSecret); ok {
			if _, keep := settings.Webhook.Headers[h]; !keep {
				delete(sealed, name)
			}
		}
	}
}

// clearHeaders drops a webhook's stored headers.
func clearHeaders(sealed map[string]string) {
	for name := range sealed {
		if strings.HasPrefix(name, config.HeaderSecret) {
			delete(sealed, name)
		}
	}
}

// unbindHeaders drops, from a webhook whose URL a save over the network
// changes, its stored headers that the save does not send again: an
// Authorization header goes where the URL leads, and the new URL is not
// where it was given for.
func (c *Catalog) unbindHeaders(old *store.Alert, settings config.Alert) []string {
	if settings.Webhook == nil || settings.Webhook.URL.Value == "" || settings.Webhook.URL.Value == WebhookURL(c.Vault, old) {
		return nil
	}
	var drop []string
	for name := range old.Secrets {
		if h, ok := strings.CutPrefix(name, config.HeaderSecret); ok && settings.Webhook.Headers[h].Value == "" {
			delete(old.Secrets, name)
			drop = append(drop, name)
		}
	}
	slices.Sort(drop)
	return drop
}

// webhookTarget is alertTarget for a webhook whose save gives url (""
// keeps the stored one, and its origin). A URL sent over the network is the
// network's unless it is the operator's, unchanged: its host is held to
// the egress policy now, and each address is checked again when a
// notification dials it (the engine). The field error names the host,
// never the rest of the URL (its path is the secret).
func (c *Catalog) webhookTarget(ctx context.Context, id int64, url string) (bool, error) {
	return c.secretURLTarget(ctx, id, "webhook.url", url, true)
}

// secretURLTarget is webhookTarget for the URL sealed as name (a
// webhook's, a channel's); checkHost: whether the URL's host is the one
// dialled, to check now (a channel URL's host may be a token: Discord's).
func (c *Catalog) secretURLTarget(ctx context.Context, id int64, name, url string, checkHost bool) (bool, error) {
	if id != 0 {
		old, err := c.Store.Alert(ctx, id)
		if err != nil {
			return false, err
		}
		if url == "" {
			return old.NetworkTarget, nil
		}
		if !old.NetworkTarget && sealedURL(c.Vault, old, name) == url {
			return false, nil
		}
	}
	if url == "" || !checkHost {
		return true, nil // "": refused by the caller, a new one needs a URL
	}
	pu, err := neturl.Parse(url)
	if err != nil {
		return false, FieldErrors{{Path: name, Msg: "is not an http(s) URL"}} // validation said so first
	}
	if fe := c.checkHost(ctx, name, pu.Hostname(), "the URL's host "); fe != nil {
		return false, fe
	}
	return true, nil
}

// WebhookURL is an alert's stored webhook URL ("" for another kind, or a
// URL that does not open).
func WebhookURL(v *vault.Vault, a *store.Alert) string { return sealedURL(v, a, "webhook.url") }

// sealedURL is the alert's secret name, opened ("" if it has none, or it
// does not open).
func sealedURL(v *vault.Vault, a *store.Alert, name string) string {
	sealed, ok := a.Secrets[name]
	if !ok || v == nil {
		return ""
	}
	u, err := v.Open(sealed, vault.AlertRecord(a.ID, name))
	if err != nil {
		return ""
	}
	return string(u)
}

// WebhookOrigin is the scheme and host of an alert's webhook URL ("" for
// another kind, or a URL that does not open): where it posts is not a
// secret, its path is.
func WebhookOrigin(v *vault.Vault, a *store.Alert) string {
	u := WebhookURL(v, a)
	if u == "" {
		return ""
	}
	return alert.Origin(u)
}
