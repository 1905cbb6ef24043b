package engine

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/oauth"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// loadOAuth opens monitor m's OAuth secrets into the token sources of its
// probe config cfg (the monitor's oauth block's and its SMTP leg's own)
// and joins them to the engine's token cache, where every monitor of the same credential
// shares one token (oauth.Cache). A refresh token the endpoint rotates is
// stored back sealed, through the one write path
// (Options.StoreRefreshToken), so that a restart keeps working; before
// each refresh the stored one is read again (refreshStored), so that a
// rotation by another node on the same database is used without reload.
// An SMTP leg without a block of its own that logs in with the monitor's
// token shares its source.
func (e *Engine) loadOAuth(m *store.Monitor, cfg *probe.Config, spec *config.Monitor) error {
	var errs []error
	if o := spec.OAuth; o != nil {
		shared := cfg.SMTP != nil && cfg.SMTP.OAuthToken.Flow != nil && cfg.SMTP.OAuthToken.Flow == cfg.OAuthToken.Flow
		f, err := e.oauthFlow(m, cfg, o, "", m.Type)
		errs = append(errs, err)
		cfg.OAuthToken = oauth.Source{Flow: f}
		if shared {
			cfg.SMTP.OAuthToken = cfg.OAuthToken
		}
	}
	if spec.SMTP != nil && spec.SMTP.OAuth != nil && cfg.SMTP != nil {
		f, err := e.oauthFlow(m, cfg, spec.SMTP.OAuth, "smtp", "smtp")
		errs = append(errs, err)
		cfg.SMTP.OAuthToken = oauth.Source{Flow: f}
	}
	return errors.Join(errs...)
}

// oauthFlow makes the token source of block o of the monitor (leg "") or
// of its SMTP leg ("smtp"), its secrets opened.
func (e *Engine) oauthFlow(m *store.Monitor, cfg *probe.Config, o *config.OAuth, leg, typ string) (*oauth.Flow, error) {
	var secret, refresh, saKey string
	var errs []error
	// A service account acts for the subject, as ProbeConfig filled it.
	subject := cfg.OAuthToken.Flow.Subject
	if leg != "" {
		subject = cfg.SMTP.OAuthToken.Flow.Subject
	}
	if v, ok := m.Secrets[config.ClientSecret(leg)]; ok {
		s, err := e.open(v, vault.MonitorRecord(m.ID, config.ClientSecret(leg)))
		secret, errs = s, append(errs, err)
	}
	if v, ok := m.Secrets[config.RefreshSecret(leg)]; ok {
		s, err := e.open(v, vault.MonitorRecord(m.ID, config.RefreshSecret(leg)))
		refresh, errs = s, append(errs, err)
	}
	if v, ok := m.Secrets[config.SAKeySecret(leg)]; ok {
		s, err := e.open(v, vault.MonitorRecord(m.ID, config.SAKeySecret(leg)))
		saKey, errs = s, append(errs, err)
	}
	f := o.Flow(typ, secret, refresh)
	f.ServiceAccountKey, f.Subject = saKey, subject
	f.Cache, f.Egress, f.CAFile = e.tokens, cfg.Egress, cfg.CAFile
	if leg != "" && cfg.SMTP != nil {
		f.CAFile = cfg.SMTP.CAFile
	}
	id := m.ID
	f.Owner = strconv.FormatInt(id, 10)
	if leg != "" {
		f.Owner += "/" + leg
	}
	if store := e.o.StoreRefreshToken; store != nil {
		log := e.o.Log
		f.Rotated = func(ctx context.Context, rt string) error {
			err := store(context.WithoutCancel(ctx), id, leg, rt)
			if err != nil {
				log.Warn("oauth: the rotated refresh token was not stored; it is kept in memory and stored again at the next test",
					slog.Int64("monitor", id), slog.String("leg", leg), slog.String("error", err.Error()))
			}
			return err
		}
	}
	if refresh != "" && e.o.Store != nil {
		f.Stored = func(ctx context.Context) (string, error) { return e.refreshStored(ctx, id, leg) }
	}
	return f, errors.Join(errs...)
}

// refreshStored reads the monitor's refresh token as the store holds it
// now: another node may have rotated it since this one loaded the
// monitor. "" when none is stored (dropped since).
func (e *Engine) refreshStored(ctx context.Context, id int64, leg string) (string, error) {
	m, err := e.o.Store.Monitor(ctx, id)
	if err != nil {
		return "", err
	}
	v, ok := m.Secrets[config.RefreshSecret(leg)]
	if !ok {
		return "", nil
	}
	return e.open(v, vault.MonitorRecord(id, config.RefreshSecret(leg)))
}
