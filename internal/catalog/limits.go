package catalog

import (
	"context"
	"encoding/json"
	neturl "net/url"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/probe/kinds"
	"github.com/mailmon/mailmon/internal/store"
)

// What the network (the API, the web UI) is held to: targets within serve's
// egress policy (internal/egress), and timing within serve's limits. A
// save that changes a target (a device's address; a monitor's device,
// type, port, TLS mode or SMTP leg; an e-mail alert's relay; a webhook's
// URL) makes it the network's: the record is marked, checked here, and
// its tests are checked again on every dial (the engine). A save that
// leaves the target as it was keeps its origin, so that renaming or
// retiming a monitor the operator applied is not refused for a loopback
// target the operator chose.

// Policy is the egress policy targets set over the network are held to.
func (c *Catalog) Policy() *egress.Policy {
	if c.Egress == nil {
		return egress.Default()
	}
	return c.Egress
}

// checkHost is the save-time check of host, as a field error on field.
func (c *Catalog) checkHost(ctx context.Context, field, host, what string) FieldErrors {
	if err := c.Policy().CheckHost(ctx, c.Resolver, host); err != nil {
		return FieldErrors{{Path: field, Msg: what + err.Error()}}
	}
	return nil
}

// deviceTarget says whether a device saved with address is the network's,
// and refuses an address outside the policy.
func (c *Catalog) deviceTarget(ctx context.Context, id int64, address string) (bool, error) {
	if id != 0 {
		old, err := c.Store.Device(ctx, id)
		if err != nil {
			return false, err
		}
		if old.Address == address && !old.NetworkTarget {
			return false, nil // the operator's address, unchanged
		}
	}
	if fe := c.checkHost(ctx, "address", address, ""); fe != nil {
		return false, fe
	}
	return true, nil
}

// monitorTarget is deviceTarget for a monitor (settings validated, defaults
// filled) on device d.
func (c *Catalog) monitorTarget(ctx context.Context, id int64, d *store.Device, mc config.Monitor) (bool, error) {
	if id != 0 {
		old, err := c.Store.Monitor(ctx, id)
		if err != nil {
			return false, err
		}
		var oc config.Monitor
		if err := json.Unmarshal(old.Spec, &oc); err != nil {
			return false, err
		}
		oc.Type = old.Type
		oc.ApplyDefaults()
		if !old.NetworkTarget && old.DeviceID == d.ID && monitorTargetOf(oc) == monitorTargetOf(mc) {
			return false, nil
		}
	}
	var bad FieldErrors
	bad = append(bad, c.checkHost(ctx, "device", d.Address, "the device's address ")...)
	if mc.SMTP != nil && mc.SMTP.Host != "" {
		bad = append(bad, c.checkHost(ctx, "smtp.host", mc.SMTP.Host, "")...)
	}
	for field, o := range map[string]*config.OAuth{"oauth.token_url": mc.OAuth, "smtp.oauth.token_url": legOAuth(mc)} {
		if o == nil {
			continue
		}
		if tu, _, err := o.Endpoint(false, false); err == nil {
			if u, err := neturl.Parse(tu); err == nil && u.Hostname() != "" {
				bad = append(bad, c.checkHost(ctx, field, u.Hostname(), "the token URL's host ")...)
			}
		}
	}
	if len(bad) > 0 {
		return false, bad
	}
	return true, nil
}

// monitorTargetOf is what of a monitor decides where its tests connect,
// beside its device's address.
func monitorTargetOf(m config.Monitor) string {
	cfg := m.ProbeConfig("")
	t := struct {
		Type     string
		Port     int
		TLS      probe.TLSMode
		SMTP     bool
		SMTPHost string
		SMTPPort int
		SMTPTLS  string
		TokenURL string
		LegURL   string
	}{Type: m.Type, Port: cfg.Port, TLS: cfg.TLS}
	if m.OAuth != nil {
		t.TokenURL, _, _ = m.OAuth.Endpoint(false, false)
	}
	if o := legOAuth(m); o != nil {
		t.LegURL, _, _ = o.Endpoint(false, false)
	}
	if t.Port == 0 {
		t.Port = kinds.DefaultPort(m.Type, cfg.TLS)
	}
	if m.SMTP != nil {
		t.SMTP, t.SMTPHost, t.SMTPPort, t.SMTPTLS = true, m.SMTP.Host, m.SMTP.Port, m.SMTP.TLS
	}
	b, _ := json.Marshal(t)
	return string(b)
}

// alertTarget is deviceTarget for an alert: an e-mail alert's relay, a
// webhook's URL (webhookTarget); a command has no target.
func (c *Catalog) alertTarget(ctx context.Context, id int64, a config.Alert) (bool, error) {
	if a.Webhook != nil {
		return c.webhookTarget(ctx, id, a.Webhook.URL.Value)
	}
	if a.IsChannel() {
		// Its host is checked on every dial (alert.Channel).
		return c.secretURLTarget(ctx, id, "url", a.URL.Value, false)
	}
	if u := a.Target(); u != "" {
		// Alertmanager, PagerDuty, Opsgenie: the service's URL, set over
		// the network, is held to the egress policy now and when dialled.
		pu, err := neturl.Parse(u)
		if err != nil {
			return false, FieldErrors{{Path: a.Kind() + ".url", Msg: "is not an http(s) URL"}}
		}
		if fe := c.checkHost(ctx, a.Kind()+".url", pu.Hostname(), "the URL's host "); fe != nil {
			return false, fe
		}
		return true, nil
	}
	if a.Email == nil {
		return false, nil
	}
	relay := a.Email.Relay
	if id != 0 {
		old, err := c.Store.Alert(ctx, id)
		if err != nil {
			return false, err
		}
		var oa config.Alert
		if err := json.Unmarshal(old.Spec, &oa); err != nil {
			return false, err
		}
		if !old.NetworkTarget && oa.Email != nil && oa.Email.Relay.Host == relay.Host &&
			oa.Email.Relay.Port == relay.Port && oa.Email.Relay.TLS == relay.TLS {
			return false, nil
		}
	}
	if fe := c.checkHost(ctx, "email.relay.host", relay.Host, ""); fe != nil {
		return false, fe
	}
	return true, nil
}

// legOAuth is the SMTP leg's own oauth block, nil without one.
func legOAuth(m config.Monitor) *config.OAuth {
	if m.SMTP == nil {
		return nil
	}
	return m.SMTP.OAuth
}
