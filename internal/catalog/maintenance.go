package catalog

import (
	"context"
	"errors"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/schedule"
	"github.com/mailmon/mailmon/internal/store"
)

// MaxMaintenance is the longest maintenance begun by hand: one forgotten
// silences its monitors for no longer.
const MaxMaintenance = 30 * 24 * time.Hour

// MaintenanceTarget is what maintenance begun by hand covers: one monitor
// (Monitor) or every monitor of a device (Device).
type MaintenanceTarget struct{ Monitor, Device int64 }

// kind is the target's kind, as the audit log names it.
func (t MaintenanceTarget) kind() string {
	if t.Device != 0 {
		return "device"
	}
	return "monitor"
}

// name is the target's name as the audit log shows it (device/monitor, or
// the device's), read through tx; ErrNotFound: no such one.
func (t MaintenanceTarget) name(ctx context.Context, c *Catalog, tx store.Config) (string, error) {
	if t.Device != 0 {
		d, err := tx.Device(ctx, t.Device)
		if err != nil {
			return "", err
		}
		return d.Name, nil
	}
	m, err := tx.Monitor(ctx, t.Monitor)
	if err != nil {
		return "", err
	}
	return c.deviceName(ctx, tx, m.DeviceID) + "/" + m.Name, nil
}

func (t MaintenanceTarget) id() int64 { return t.Monitor + t.Device }

// ParseMaintenanceFor reads how long maintenance lasts ("2h", "30m"):
// more than nothing and at most MaxMaintenance.
func ParseMaintenanceFor(s string) (time.Duration, error) {
	var d config.Duration
	if err := d.UnmarshalText([]byte(s)); err != nil || d.D() <= 0 || d.D() > MaxMaintenance {
		return 0, FieldErrors{{Path: "for", Msg: "is how long the maintenance lasts, like 30m or 2h, at most 720h (30 days)"}}
	}
	return d.D(), nil
}

// BeginMaintenance puts a monitor or a whole device in maintenance from
// now for d (replacing any maintenance begun by hand on it): no alerts for
// it, nor for the monitors that depend on one of it, until it ends by
// itself or EndMaintenance. The change is audited.
func (c *Catalog) BeginMaintenance(ctx context.Context, o Origin, t MaintenanceTarget, d time.Duration, now time.Time) (*store.MaintenanceNow, error) {
	if err := o.Actor.mayWrite(t.kind()); err != nil {
		return nil, err
	}
	if d <= 0 || d > MaxMaintenance {
		return nil, FieldErrors{{Path: "for", Msg: "is at most 720h (30 days)"}}
	}
	now = now.UTC().Truncate(time.Millisecond)
	m := store.MaintenanceNow{MonitorID: t.Monitor, DeviceID: t.Device, Until: now.Add(d), By: o.Actor.Kind + " " + o.Actor.Name, At: now}
	err := c.batch(ctx, func(tx store.Config) error {
		name, err := t.name(ctx, c, tx)
		if err != nil {
			return err
		}
		before := c.maintenanceUntil(ctx, tx, t, now)
		if err := tx.PutMaintenanceNow(ctx, m); err != nil {
			return err
		}
		return auditMaintenance(ctx, tx, o, t, name, before, m.Until.Format(time.RFC3339))
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// EndMaintenance ends the maintenance begun by hand on a monitor or a
// device, if any: its alerts go out again. The change is audited.
func (c *Catalog) EndMaintenance(ctx context.Context, o Origin, t MaintenanceTarget, now time.Time) error {
	if err := o.Actor.mayWrite(t.kind()); err != nil {
		return err
	}
	return c.batch(ctx, func(tx store.Config) error {
		name, err := t.name(ctx, c, tx)
		if err != nil {
			return err
		}
		before := c.maintenanceUntil(ctx, tx, t, now)
		err = tx.EndMaintenanceNow(ctx, t.Monitor, t.Device)
		if errors.Is(err, store.ErrNotFound) || err == nil && before == "" {
			return nil // none, or one already over: nothing to audit
		}
		if err != nil {
			return err
		}
		return auditMaintenance(ctx, tx, o, t, name, before, "")
	})
}

// maintenanceUntil is the end of the maintenance begun by hand on t that
// is in effect at now, RFC 3339 ("": none).
func (c *Catalog) maintenanceUntil(ctx context.Context, s store.Config, t MaintenanceTarget, now time.Time) string {
	ms, _ := s.MaintenancesNow(ctx, now)
	for _, m := range ms {
		if m.MonitorID == t.Monitor && m.DeviceID == t.Device {
			return m.Until.Format(time.RFC3339)
		}
	}
	return ""
}

func auditMaintenance(ctx context.Context, tx store.Config, o Origin, t MaintenanceTarget, name, before, after string) error {
	ch := Change{Kind: t.kind(), Name: name, Action: "updated", ID: t.id()}
	return audit(ctx, tx, o, ch, snap(nil, nil, map[string]string{"maintenance_until": before}), snap(nil, nil, map[string]string{"maintenance_until": after}))
}

// MaintenancesNow lists the maintenance begun by hand in effect at now,
// for the pages and the API (schedule.Until says which covers a monitor);
// a store that cannot say shows none.
func (c *Catalog) MaintenancesNow(ctx context.Context, now time.Time) []store.MaintenanceNow {
	ms, _ := c.Store.MaintenancesNow(ctx, now)
	return ms
}

// MaintenanceOf is the maintenance begun by hand in effect at now that
// covers a monitor of a device (its own or its device's, whichever ends
// later), or a device (monitor 0); nil: none.
func (c *Catalog) MaintenanceOf(ctx context.Context, monitor, device int64, now time.Time) *store.MaintenanceNow {
	return schedule.Covering(c.MaintenancesNow(ctx, now), monitor, device)
}
