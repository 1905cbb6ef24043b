package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// Monitor is a monitor to save: its device, settings, secrets in the clear
// (nil: keep the stored one, "": remove it) and the ids of its alerts
// (nil: as settings.notify.alerts names them, or keep; notify.go).
type Monitor struct {
	Device       int64
	Settings     config.Monitor
	Password     *string
	SMTPPassword *string
	// The oauth block's client secret and refresh token, write-only too.
	OAuthClientSecret *string
	OAuthRefreshToken *string
	DQSKey            *string // dnsbl: a Spamhaus DQS key, write-only too
	// The SMTP leg's own oauth block's (smtp.oauth), write-only too.
	SMTPOAuthClientSecret *string
	SMTPOAuthRefreshToken *string
	// A Google service account's key (oauth.service_account_key), the
	// JSON itself, write-only.
	OAuthServiceAccountKey     *string
	SMTPOAuthServiceAccountKey *string
	Alerts                     []int64
}

// SaveMonitor creates (id 0) or replaces a monitor. The monitor's secrets
// are read, dropped (secretbind, from the network), sealed and written in
// one transaction (tx.go).
func (c *Catalog) SaveMonitor(ctx context.Context, o Origin, id int64, in Monitor) (*store.Monitor, Result, error) {
	if err := o.Actor.mayWrite("monitor"); err != nil {
		return nil, Result{}, err
	}
	if o.fromNetwork() {
		if err := keepOperatorFields(ctx, id, &in.Settings, c.monitorSpec); err != nil {
			return nil, Result{}, err
		}
	}
	// Alerts by id or by name, resolved against the stored ones (notify.go).
	links, names, err := c.monitorAlerts(ctx, id, in.Alerts, in.Settings.Notify.Alerts)
	if err != nil {
		return nil, Result{}, err
	}
	in.Settings.Notify.Alerts = names
	if in.DQSKey != nil && *in.DQSKey != "" {
		in.Settings.DQSKey = config.SecretRef{Value: *in.DQSKey} // validated with the settings, never stored with them
	}
	d, err := c.Store.Device(ctx, in.Device)
	if err != nil {
		return nil, Result{}, FieldErrors{{Path: "device", Msg: "no such device"}}
	}
	mc, err := c.checkMonitor(ctx, o, id, d, in.Settings)
	if err != nil {
		return nil, Result{}, err
	}
	network := false
	if o.fromNetwork() {
		if network, err = c.monitorTarget(ctx, id, d, mc); err != nil {
			return nil, Result{}, err
		}
	}
	spec, err := json.Marshal(mc)
	if err != nil {
		return nil, Result{}, err
	}
	var m *store.Monitor
	var dropped []string
	var ch Change
	err = c.batch(ctx, func(tx store.Config) error {
		var before snapshot
		m = &store.Monitor{ID: id, DeviceID: d.ID, Name: mc.Name, Type: mc.Type, Enabled: mc.IsEnabled(), Spec: spec, Secrets: map[string]string{},
			NetworkTarget: network}
		dropped = nil
		inputs := map[string]*string{"password": in.Password, "smtp.password": in.SMTPPassword,
			config.SecretOAuthClient: in.OAuthClientSecret, config.SecretOAuthRefresh: in.OAuthRefreshToken,
			config.SecretSMTPOAuthClient: in.SMTPOAuthClientSecret, config.SecretSMTPOAuthRefresh: in.SMTPOAuthRefreshToken,
			config.SecretOAuthSAKey: in.OAuthServiceAccountKey, config.SecretSMTPOAuthSAKey: in.SMTPOAuthServiceAccountKey,
			config.SecretDQSKey: in.DQSKey}
		addrs := addresses{}
		if id != 0 {
			old, err := tx.Monitor(ctx, id)
			if err != nil {
				return err
			}
			before = monitorSnap(old, c.deviceName(ctx, tx, old.DeviceID))
			m.Secrets = old.Secrets
			if o.fromNetwork() {
				addr, err := addrs.read(ctx, tx, d.ID)
				if err != nil {
					return err
				}
				oldAddr, err := addrs.read(ctx, tx, old.DeviceID) // moved from another device
				if errors.Is(err, store.ErrNotFound) {
					oldAddr = addr
				} else if err != nil {
					return err
				}
				if dropped, err = unbindMonitor(old, oldAddr, addr, mc, inputs); err != nil {
					return err
				}
			}
		} else if err := tx.PutMonitor(ctx, m); err != nil { // its ID first: secrets are sealed under it
			return err
		}
		if _, err := seal(c.Vault, m.Secrets, writeOnly(m.Secrets, inputs), func(n string) string { return vault.MonitorRecord(m.ID, n) }); err != nil {
			return err
		}
		if err := tx.PutMonitor(ctx, m); err != nil {
			return err
		}
		if links != nil {
			if err := tx.SetMonitorAlerts(ctx, m.ID, links); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return FieldErrors{{Path: "alerts", Msg: "no such alert"}}
				}
				return err
			}
		}
		ch = Change{Kind: "monitor", Name: d.Name + "/" + m.Name, Action: action(id), ID: m.ID}
		if err := audit(ctx, tx, o, ch, before, monitorSnap(m, d.Name)); err != nil {
			return err
		}
		return addrs.unchanged(ctx, tx)
	})
	if err != nil {
		return nil, Result{}, err
	}
	res := Result{Changes: []Change{ch}, Reload: []int64{m.ID}}
	if len(dropped) > 0 {
		res.Dropped = []Drop{{Kind: "monitor", ID: m.ID, Name: m.Name, Secrets: dropped}}
	}
	return m, res, nil
}

// checkMonitor validates a monitor's settings on device d, defaults
// filled. The device's other monitors are validated beside it, so that
// depends_on can name them and a cycle is found; only this monitor's
// problems (and a cycle) are reported. The network is held to serve's
// timing limits too.
func (c *Catalog) checkMonitor(ctx context.Context, o Origin, id int64, d *store.Device, settings config.Monitor) (config.Monitor, error) {
	others, err := c.siblings(ctx, d.ID, id)
	if err != nil {
		return settings, err
	}
	creds, err := c.recoveryCredentials(ctx, settings)
	if err != nil {
		return settings, err
	}
	f := config.File{Credentials: creds, Alerts: append(alertStubs(settings.Notify.Alerts), escalationStubs(settings.Notify.Escalate, "")...),
		Devices: []config.Device{{Name: d.Name, Address: d.Address, Monitors: append([]config.Monitor{settings}, others...)}}}
	var own []config.FieldError
	for _, e := range f.Validate() {
		if strings.HasPrefix(e.Path, "devices[0].monitors[0].") || e.Path == "devices[0].monitors" {
			own = append(own, e)
		}
	}
	bad, err := c.checkEscalation(ctx, settings.Notify.Escalate, "devices[0].monitors[0].notify.escalate", "")
	if err != nil {
		return settings, err
	}
	own = append(own, bad...)
	mc := f.Devices[0].Monitors[0]
	if o.fromNetwork() {
		own = append(own, c.Timing.CheckTiming(mc.Timing)...) // serve's limits
	}
	return mc, fields(own, "devices[0].monitors[0].")
}

// siblings are the settings of a device's monitors but one (except).
func (c *Catalog) siblings(ctx context.Context, device, except int64) ([]config.Monitor, error) {
	ms, err := allMonitors(ctx, c.Store, device)
	if err != nil {
		return nil, err
	}
	var out []config.Monitor
	for _, m := range ms {
		if m.ID == except {
			continue
		}
		var mc config.Monitor
		if err := json.Unmarshal(m.Spec, &mc); err != nil {
			return nil, err
		}
		mc.Name, mc.Type = m.Name, m.Type
		mc.Notify.Alerts = nil // assigned by id; names are checked against the file's alerts
		out = append(out, mc)
	}
	return out, nil
}

// DeleteMonitor deletes a monitor; it is to be reloaded (its tests stop).
func (c *Catalog) DeleteMonitor(ctx context.Context, o Origin, id int64) (Result, error) {
	if err := o.Actor.mayWrite("monitor"); err != nil {
		return Result{}, err
	}
	var ch Change
	err := c.batch(ctx, func(tx store.Config) error {
		m, err := tx.Monitor(ctx, id)
		if err != nil {
			return err
		}
		dev := c.deviceName(ctx, tx, m.DeviceID)
		ch = Change{Kind: "monitor", Name: dev + "/" + m.Name, Action: "deleted", ID: id}
		if err := audit(ctx, tx, o, ch, monitorSnap(m, dev), snapshot{}); err != nil {
			return err
		}
		return tx.DeleteMonitor(ctx, id)
	})
	if err != nil {
		return Result{}, err
	}
	return Result{Changes: []Change{ch}, Reload: []int64{id}}, nil
}

// deviceName is a device's name, "" if it is gone.
func (c *Catalog) deviceName(ctx context.Context, s store.Config, id int64) string {
	if d, err := s.Device(ctx, id); err == nil {
		return d.Name
	}
	return ""
}
