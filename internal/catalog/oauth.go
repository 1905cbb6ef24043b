package catalog

import (
	"context"
	"encoding/json"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// StoreRefreshToken stores, sealed, the refresh token a monitor's token
// endpoint rotated in, in place of the one it holds (the engine calls it,
// engine.Options.StoreRefreshToken). Nothing is reloaded: the engine's
// token cache already uses it. A monitor that no longer has an oauth block
// (changed since) keeps nothing.
// The leg is "" for the monitor's oauth block, "smtp" for its SMTP leg's.
func (c *Catalog) StoreRefreshToken(ctx context.Context, id int64, leg, refresh string) error {
	return c.storeRefresh(ctx, id, leg, refresh, false)
}

// LoginRefreshToken stores the refresh token of a device login ("mailmon
// oauth login --monitor", the operator's) for a monitor with an oauth
// block, sealed.
func (c *Catalog) LoginRefreshToken(ctx context.Context, id int64, refresh string) error {
	return c.storeRefresh(ctx, id, "", refresh, true)
}

func (c *Catalog) storeRefresh(ctx context.Context, id int64, leg, refresh string, login bool) error {
	name := config.RefreshSecret(leg)
	return c.batch(ctx, func(tx store.Config) error {
		m, err := tx.Monitor(ctx, id)
		if err != nil {
			return err
		}
		var mc config.Monitor
		if err := json.Unmarshal(m.Spec, &mc); err != nil {
			return err
		}
		if mc.OAuth == nil {
			return FieldErrors{{Path: "oauth", Msg: "the monitor has no oauth block to log in for: add one (provider, tenant, client_id) and apply it first"}}
		}
		if _, ok := m.Secrets[name]; !ok && !login {
			return nil // dropped or removed since: not ours to bring back
		}
		changed, err := seal(c.Vault, m.Secrets, secrets{name: refresh},
			func(n string) string { return vault.MonitorRecord(m.ID, n) })
		if err != nil || !changed {
			return err
		}
		return tx.PutMonitor(ctx, m)
	})
}
