package engine

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/vault"
)

// loadOAuth opens a monitor's OAuth secrets into its token source and
// joins it to the engine's token cache, where every monitor of the same
// credential shares one token (oauth.Cache). A refresh token the endpoint
// rotates is stored back sealed, through the one write path
// (Options.StoreRefreshToken), so that a restart keeps working. The SMTP
// leg of a round trip that logs in with the monitor's token shares its
// source.
func (e *Engine) loadOAuth(en *entry) error {
	o := en.spec.OAuth
	if o == nil {
		return nil
	}
	var secret, refresh string
	var errs []error
	if v, ok := en.m.Secrets[config.SecretOAuthClient]; ok {
		s, err := e.open(v, vault.MonitorRecord(en.m.ID, config.SecretOAuthClient))
		secret, errs = s, append(errs, err)
	}
	if v, ok := en.m.Secrets[config.SecretOAuthRefresh]; ok {
		s, err := e.open(v, vault.MonitorRecord(en.m.ID, config.SecretOAuthRefresh))
		refresh, errs = s, append(errs, err)
	}
	f := o.Flow(en.m.Type, secret, refresh)
	f.Cache, f.Egress, f.CAFile = e.tokens, en.cfg.Egress, en.cfg.CAFile
	f.Owner = strconv.FormatInt(en.m.ID, 10)
	if store := e.o.StoreRefreshToken; store != nil {
		id, log := en.m.ID, e.o.Log
		f.Rotated = func(ctx context.Context, rt string) error {
			err := store(context.WithoutCancel(ctx), id, rt)
			if err != nil {
				log.Warn("oauth: the rotated refresh token was not stored; it is kept in memory and stored again at the next test",
					slog.Int64("monitor", id), slog.String("error", err.Error()))
			}
			return err
		}
	}
	shared := en.cfg.SMTP != nil && en.cfg.SMTP.OAuthToken.Flow != nil && en.cfg.SMTP.OAuthToken.Flow == en.cfg.OAuthToken.Flow
	en.cfg.OAuthToken = oauth.Source{Flow: f}
	if shared {
		en.cfg.SMTP.OAuthToken = en.cfg.OAuthToken
	}
	return errors.Join(errs...)
}
