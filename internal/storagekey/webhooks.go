package storagekey

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// Unlock is what a command that writes secrets does first: Check (writing
// the verifier a store made before it has none), then SealWebhooks.
func Unlock(ctx context.Context, st store.Store, v *vault.Vault, o Origin) ([]string, error) {
	warnings, err := Check(ctx, st, v, o, true)
	if err != nil {
		return nil, err
	}
	if _, err := SealWebhooks(ctx, st, v); err != nil {
		return nil, fmt.Errorf("sealing the webhook URLs: %w", err)
	}
	return warnings, nil
}

// SealWebhooks moves the webhook URLs an older mailmon kept in an alert's
// settings into its sealed secrets ("webhook.url"), and returns how many.
// It runs on every start rather than as a migration: sealing needs the
// key, which migrations do not have. Each alert is one write, and a
// second run finds nothing to do.
func SealWebhooks(ctx context.Context, st store.Store, v *vault.Vault) (int, error) {
	n := 0
	err := store.Walk(ctx, 500, st.Alerts, store.AlertID, func(as []store.Alert, _ int) error {
		for i := range as {
			a := &as[i]
			var spec config.Alert
			if err := json.Unmarshal(a.Spec, &spec); err != nil {
				return fmt.Errorf("alert %s: %w", a.Name, err)
			}
			if spec.Webhook == nil || spec.Webhook.URL.Value == "" {
				continue
			}
			if a.Secrets == nil {
				a.Secrets = map[string]string{}
			}
			if a.Secrets["webhook.url"] == "" {
				sealed, err := v.Seal([]byte(spec.Webhook.URL.Value), vault.AlertRecord(a.ID, "webhook.url"))
				if err != nil {
					return err
				}
				a.Secrets["webhook.url"] = sealed
			}
			raw, err := json.Marshal(spec) // the URL is never marshalled
			if err != nil {
				return err
			}
			a.Spec = raw
			if err := st.PutAlert(ctx, a); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
