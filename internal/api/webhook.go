package api

import (
	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/store"
)

// A webhook's URL is a secret (a Slack or Teams URL lets anyone post):
// sealed under "webhook.url" like a password, never in the alert's
// settings, shown only as its scheme and host.

// sealWebhookURL seals the URL a request gives into a's secrets; a webhook
// given none keeps the stored one, and must have one.
func (s *Server) sealWebhookURL(a *store.Alert, settings config.Alert) error {
	if settings.Webhook == nil {
		return nil
	}
	u := settings.Webhook.URL.Value
	if u == "" {
		if a.Secrets["webhook.url"] == "" {
			return fieldErrors{{Path: "webhook.url", Msg: "is required"}}
		}
		return nil
	}
	sealed, err := s.Vault.Seal([]byte(u), engine.AlertRecord(a.ID, "webhook.url"))
	if err != nil {
		return err
	}
	a.Secrets["webhook.url"] = sealed
	return nil
}

// WebhookOrigin is the scheme and host of an alert's webhook URL ("" for
// another kind, or a URL that does not open).
func (s *Server) WebhookOrigin(a *store.Alert) string {
	sealed, ok := a.Secrets["webhook.url"]
	if !ok || s.Vault == nil {
		return ""
	}
	u, err := s.Vault.Open(sealed, engine.AlertRecord(a.ID, "webhook.url"))
	if err != nil {
		return ""
	}
	return alert.Origin(string(u))
}
