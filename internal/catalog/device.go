package catalog

import (
	"context"
	"encoding/json"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
)

// Device is a device to save. Maintenance, when not nil, replaces its
// maintenance windows (nil keeps the stored ones).
type Device struct {
	Name, Address string
	Maintenance   *[]config.Window
}

func checkDevice(in Device) error {
	f := config.File{Devices: []config.Device{{Name: in.Name, Address: in.Address}}}
	if in.Maintenance != nil {
		f.Devices[0].Maintenance = *in.Maintenance
	}
	return fields(f.Validate(), "devices[0].")
}

// SaveDevice creates (id 0) or updates a device. A new address redirects
// every monitor of the device: from the network, the secrets that would
// follow it are dropped in the same transaction (Result.Dropped), and the
// device's monitors are to be reloaded.
func (c *Catalog) SaveDevice(ctx context.Context, o Origin, id int64, in Device) (*store.Device, Result, error) {
	if err := o.Actor.mayWrite("device"); err != nil {
		return nil, Result{}, err
	}
	if err := checkDevice(in); err != nil {
		return nil, Result{}, err
	}
	network := false
	if o.fromNetwork() {
		var err error
		if network, err = c.deviceTarget(ctx, id, in.Address); err != nil { // egress policy (limits.go), before anything is written
			return nil, Result{}, err
		}
	}
	var res Result
	d := &store.Device{ID: id, Name: in.Name, Address: in.Address, NetworkTarget: network}
	if in.Maintenance != nil {
		d.Maintenance = deviceWindows(*in.Maintenance)
	}
	err := c.batch(ctx, func(tx store.Config) error {
		res = Result{}
		var before snapshot
		if id != 0 {
			old, err := tx.Device(ctx, id)
			if err != nil {
				return err
			}
			before = deviceSnap(old)
			if in.Maintenance == nil {
				d.Maintenance = old.Maintenance
			}
			if other, err := tx.DeviceByName(ctx, in.Name); err == nil && other.ID != id {
				return store.ErrConflict // before anything is dropped
			}
			ms, err := allMonitors(ctx, tx, id)
			if err != nil {
				return err
			}
			for _, m := range ms {
				res.Reload = append(res.Reload, m.ID) // they test its address
			}
			if old.Address != in.Address && o.fromNetwork() {
				if res.Dropped, err = unbindDevice(ctx, tx, ms, old.Address, in.Address); err != nil {
					return err
				}
			}
		}
		if err := tx.PutDevice(ctx, d); err != nil {
			return err
		}
		res.Changes = []Change{{Kind: "device", Name: d.Name, Action: action(id), ID: d.ID}}
		return audit(ctx, tx, o, res.Changes[0], before, deviceSnap(d))
	})
	if err != nil {
		return nil, Result{}, err
	}
	return d, res, nil
}

// DeleteDevice deletes a device and its monitors.
func (c *Catalog) DeleteDevice(ctx context.Context, o Origin, id int64) (Result, error) {
	if err := o.Actor.mayWrite("device"); err != nil {
		return Result{}, err
	}
	var res Result
	err := c.batch(ctx, func(tx store.Config) error {
		res = Result{}
		d, err := tx.Device(ctx, id)
		if err != nil {
			return err
		}
		ms, err := allMonitors(ctx, tx, id)
		if err != nil {
			return err
		}
		for _, m := range ms {
			res.Reload = append(res.Reload, m.ID)
			ch := Change{Kind: "monitor", Name: d.Name + "/" + m.Name, Action: "deleted", ID: m.ID}
			res.Changes = append(res.Changes, ch)
			if err := audit(ctx, tx, o, ch, monitorSnap(&m, d.Name), snapshot{}); err != nil {
				return err
			}
		}
		ch := Change{Kind: "device", Name: d.Name, Action: "deleted", ID: id}
		res.Changes = append(res.Changes, ch)
		if err := audit(ctx, tx, o, ch, deviceSnap(d), snapshot{}); err != nil {
			return err
		}
		return tx.DeleteDevice(ctx, id)
	})
	return res, err
}

// action is what a save of record id (0: new) did.
func action(id int64) string {
	if id == 0 {
		return "created"
	}
	return "updated"
}

// deviceWindows is a device's windows as stored (nil: none).
func deviceWindows(ws []config.Window) []byte {
	if len(ws) == 0 {
		return nil
	}
	b, _ := json.Marshal(ws)
	return b
}
