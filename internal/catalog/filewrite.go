package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/vault"
)

// chunkMonitors is about how many monitors one transaction of ApplyFile
// writes (a device's monitors are never split). A transaction per change
// cost a commit each, most of apply's time; one for the whole file would
// hold SQLite's write lock for the whole apply, and a running daemon's
// results would wait for it. A thousand monitors take a fraction of a
// second.
const chunkMonitors = 1000

// write stores the plan: credentials and alerts, then the devices and
// their monitors, in transactions of about chunkMonitors monitors. The
// result lists what the committed transactions did; on an error, the
// transaction in progress is rolled back and those before it stay.
func (c *Catalog) write(ctx context.Context, o Origin, k *known, p *plan) (Result, error) {
	var res Result
	alertIDs := map[string]int64{}
	devs := p.devices
	for first := true; first || len(devs) > 0; first = false {
		n, i := 0, 0
		for i < len(devs) && (i == 0 || n+len(devs[i].monitors) <= chunkMonitors) {
			n += len(devs[i].monitors)
			i++
		}
		chunk := devs[:i]
		devs = devs[i:]
		var part []Change
		err := store.Batch(ctx, c.Store, func(tx store.Config) error {
			k.Config = tx
			part = nil
			if first {
				for _, pc := range p.credentials {
					ch, err := c.putCredential(ctx, o, k, pc)
					if err != nil {
						return err
					}
					part = append(part, ch)
				}
				for _, a := range p.alerts {
					ch, err := c.putAlert(ctx, o, k, a)
					if err != nil {
						return err
					}
					alertIDs[a.cfg.Name] = ch.ID
					part = append(part, ch)
				}
			}
			for _, d := range chunk {
				dc, err := putDevice(ctx, o, k, d)
				if err != nil {
					return err
				}
				part = append(part, dc)
				for _, m := range d.monitors {
					ch, err := c.putMonitor(ctx, o, k, dc.ID, d.cfg.Name, m, alertIDs)
					if err != nil {
						return err
					}
					part = append(part, ch)
				}
				k.forget(dc.ID)
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		for _, ch := range part {
			res.Changes = append(res.Changes, ch)
			if ch.Kind == "monitor" && ch.Action != "unchanged" {
				res.Reload = append(res.Reload, ch.ID)
			}
		}
	}
	// The status pages last: the monitors they name are stored.
	if len(p.statusPages) > 0 {
		var part []Change
		err := store.Batch(ctx, c.Store, func(tx store.Config) error {
			part = nil
			for _, sp := range p.statusPages {
				ch, err := putStatusPage(ctx, o, tx, sp)
				if err != nil {
					return err
				}
				part = append(part, ch)
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		res.Changes = append(res.Changes, part...)
	}
	return res, nil
}

// putCredential stores a credential by name. It holds a password or a key,
// never both: giving one drops the other.
func (c *Catalog) putCredential(ctx context.Context, o Origin, s store.Config, pc plannedCredential) (Change, error) {
	spec, err := json.Marshal(pc.cfg)
	if err != nil {
		return Change{}, err
	}
	ch := Change{Kind: "credential", Name: pc.cfg.Name}
	cr, err := s.CredentialByName(ctx, pc.cfg.Name)
	var before snapshot
	if err == nil {
		before = snap(cr.Spec, cr.Secrets, nil)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Created first, secrets after: they are sealed under its ID.
		cr = &store.Credential{Name: pc.cfg.Name, Spec: spec, Secrets: map[string]string{}}
		if err := s.PutCredential(ctx, cr); err != nil {
			return ch, err
		}
		ch.Action = "created"
	case err != nil:
		return ch, err
	default:
		ch.Action = "unchanged"
		if !sameJSON(cr.Spec, spec) {
			cr.Spec, ch.Action = spec, "updated"
		}
	}
	if cr.Secrets == nil {
		cr.Secrets = map[string]string{}
	}
	changed := replaceKind(cr.Secrets, pc.secrets)
	sealed, err := seal(c.Vault, cr.Secrets, pc.secrets, func(name string) string { return vault.CredentialRecord(cr.ID, name) })
	if err != nil {
		return ch, err
	}
	changed = changed || sealed
	if changed && ch.Action == "unchanged" {
		ch.Action = "updated"
	}
	if ch.Action == "updated" || changed {
		if err := s.PutCredential(ctx, cr); err != nil {
			return ch, err
		}
	}
	ch.ID = cr.ID
	return ch, audit(ctx, s, o, ch, before, snap(cr.Spec, cr.Secrets, nil))
}

func (c *Catalog) putAlert(ctx context.Context, o Origin, s store.Config, pa plannedAlert) (Change, error) {
	spec, err := json.Marshal(pa.cfg)
	if err != nil {
		return Change{}, err
	}
	ch := Change{Kind: "alert", Name: pa.cfg.Name}
	a, err := s.AlertByName(ctx, pa.cfg.Name)
	var before snapshot
	if err == nil {
		before = snap(a.Spec, a.Secrets, nil)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		a = &store.Alert{Name: pa.cfg.Name, Kind: pa.cfg.Kind(), Spec: spec, Secrets: map[string]string{}}
		if err := s.PutAlert(ctx, a); err != nil {
			return ch, err
		}
		ch.Action = "created"
	case err != nil:
		return ch, err
	default:
		ch.Action = "unchanged"
		// A webhook URL the file leaves out (an export) is kept as stored,
		// and so is whose it is: one set over the network stays held to
		// the egress policy.
		_, urlGiven := pa.secrets["webhook.url"]
		network := a.NetworkTarget && a.Kind == "webhook" && pa.cfg.Webhook != nil && !urlGiven
		var was config.Alert
		if json.Unmarshal(a.Spec, &was) == nil && a.NetworkTarget && pa.cfg.Target() != "" && was.Target() == pa.cfg.Target() {
			network = true // a service's URL set over the network, unchanged
		}
		if a.Kind != pa.cfg.Kind() || !sameJSON(a.Spec, spec) || a.NetworkTarget != network {
			a.Kind, a.Spec, a.NetworkTarget, ch.Action = pa.cfg.Kind(), spec, network, "updated"
		}
	}
	n := len(a.Secrets)
	replaceHeaders(a.Secrets, pa.cfg)
	changed, err := seal(c.Vault, a.Secrets, pa.secrets, func(name string) string { return vault.AlertRecord(a.ID, name) })
	changed = changed || len(a.Secrets) != n
	if err != nil {
		return ch, err
	}
	if changed && ch.Action == "unchanged" {
		ch.Action = "updated"
	}
	if ch.Action != "unchanged" || changed {
		if err := s.PutAlert(ctx, a); err != nil {
			return ch, err
		}
	}
	ch.ID = a.ID
	return ch, audit(ctx, s, o, ch, before, snap(a.Spec, a.Secrets, nil))
}

func putDevice(ctx context.Context, o Origin, s store.Config, pd plannedDevice) (Change, error) {
	d := pd.cfg
	ch := Change{Kind: "device", Name: d.Name}
	dev, err := s.DeviceByName(ctx, d.Name)
	var before snapshot
	if err == nil {
		before = deviceSnap(dev)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		dev = &store.Device{Name: d.Name, Address: d.Address}
		ch.Action = "created"
	case err != nil:
		return ch, err
	case dev.Address == d.Address && !dev.NetworkTarget:
		ch.Action, ch.ID = "unchanged", dev.ID
		return ch, nil
	default:
		// The file's address is the operator's, even if it is the one set
		// over the network (internal/egress).
		dev.Address, dev.NetworkTarget, ch.Action = d.Address, false, "updated"
	}
	if err := s.PutDevice(ctx, dev); err != nil {
		return ch, err
	}
	ch.ID = dev.ID
	return ch, audit(ctx, s, o, ch, before, deviceSnap(dev))
}

func (c *Catalog) putMonitor(ctx context.Context, o Origin, s store.Config, devID int64, devName string, pm plannedMonitor, alertIDs map[string]int64) (Change, error) {
	spec, err := json.Marshal(pm.cfg)
	if err != nil {
		return Change{}, err
	}
	ch := Change{Kind: "monitor", Name: devName + "/" + pm.cfg.Name}
	m, err := s.MonitorByName(ctx, devID, pm.cfg.Name)
	var before snapshot
	if err == nil {
		before = monitorSnap(m, devName)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		m = &store.Monitor{DeviceID: devID, Name: pm.cfg.Name, Type: pm.cfg.Type, Enabled: pm.cfg.IsEnabled(), Spec: spec, Secrets: map[string]string{}}
		if err := s.PutMonitor(ctx, m); err != nil {
			return ch, err
		}
		ch.Action = "created"
	case err != nil:
		return ch, err
	default:
		ch.Action = "unchanged"
		if m.Type != pm.cfg.Type || m.Enabled != pm.cfg.IsEnabled() || !sameJSON(m.Spec, spec) || m.NetworkTarget {
			m.Type, m.Enabled, m.Spec, m.NetworkTarget, ch.Action = pm.cfg.Type, pm.cfg.IsEnabled(), spec, false, "updated"
		}
	}
	changed, err := seal(c.Vault, m.Secrets, pm.secrets, func(name string) string { return vault.MonitorRecord(m.ID, name) })
	if err != nil {
		return ch, err
	}
	if changed && ch.Action == "unchanged" {
		ch.Action = "updated"
	}
	if ch.Action == "updated" || changed {
		if err := s.PutMonitor(ctx, m); err != nil {
			return ch, err
		}
	}
	var ids []int64
	for _, name := range pm.cfg.Notify.Alerts {
		ids = append(ids, alertIDs[name])
	}
	slices.Sort(ids)
	old, err := s.MonitorAlerts(ctx, m.ID)
	if err != nil {
		return ch, err
	}
	if !slices.Equal(old, slices.Compact(ids)) {
		if err := s.SetMonitorAlerts(ctx, m.ID, ids); err != nil {
			return ch, err
		}
		if ch.Action == "unchanged" {
			ch.Action = "updated"
		}
	}
	ch.ID = m.ID
	return ch, audit(ctx, s, o, ch, before, monitorSnap(m, devName))
}
