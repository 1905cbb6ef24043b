package catalog

import (
	"context"
	"errors"
	"maps"

	"github.com/mailmon/mailmon/internal/store"
)

// known is the store as ApplyFile sees it: a device's monitors are read in one
// query the first time one of them is asked for, and a monitor created by
// this apply is known to have no alerts yet. Without it, each monitor cost
// three to five queries of its own: 100,000 monitors, half a million.
// Reads return copies, as the store's do; writes go through and are
// remembered.
type known struct {
	store.Config                                     // the store, or the transaction of the batch being written
	devices      map[string]*store.Device            // by name; nil: not stored
	monitors     map[int64]map[string]*store.Monitor // by device ID, then name
	created      map[int64]bool                      // monitors created by this apply
}

func newKnown(s store.Config) *known {
	return &known{Config: s, devices: map[string]*store.Device{}, monitors: map[int64]map[string]*store.Monitor{}, created: map[int64]bool{}}
}

func (k *known) DeviceByName(ctx context.Context, name string) (*store.Device, error) {
	d, ok := k.devices[name]
	if !ok {
		var err error
		d, err = k.Config.DeviceByName(ctx, name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			d = nil
		case err != nil:
			return nil, err
		}
		k.devices[name] = d
	}
	if d == nil {
		return nil, store.ErrNotFound
	}
	c := *d
	return &c, nil
}

func (k *known) PutDevice(ctx context.Context, d *store.Device) error {
	if err := k.Config.PutDevice(ctx, d); err != nil {
		return err
	}
	c := *d
	k.devices[d.Name] = &c
	return nil
}

// deviceMonitors reads a device's monitors once.
func (k *known) deviceMonitors(ctx context.Context, deviceID int64) (map[string]*store.Monitor, error) {
	if ms, ok := k.monitors[deviceID]; ok {
		return ms, nil
	}
	ms := map[string]*store.Monitor{}
	const page = 10000
	for off := 0; ; off += page {
		list, _, err := k.Config.Monitors(ctx, store.MonitorFilter{DeviceID: deviceID, Page: store.Page{Limit: page, Offset: off}})
		if err != nil {
			return nil, err
		}
		for i := range list {
			ms[list[i].Name] = &list[i]
		}
		if len(list) < page {
			break
		}
	}
	k.monitors[deviceID] = ms
	return ms, nil
}

func (k *known) MonitorByName(ctx context.Context, deviceID int64, name string) (*store.Monitor, error) {
	ms, err := k.deviceMonitors(ctx, deviceID)
	if err != nil {
		return nil, err
	}
	m, ok := ms[name]
	if !ok {
		return nil, store.ErrNotFound
	}
	return cloneMonitor(m), nil
}

func (k *known) PutMonitor(ctx context.Context, m *store.Monitor) error {
	isNew := m.ID == 0
	if err := k.Config.PutMonitor(ctx, m); err != nil {
		return err
	}
	if isNew {
		k.created[m.ID] = true
	}
	if ms, ok := k.monitors[m.DeviceID]; ok {
		ms[m.Name] = cloneMonitor(m)
	}
	return nil
}

func (k *known) MonitorAlerts(ctx context.Context, monitorID int64) ([]int64, error) {
	if k.created[monitorID] {
		return nil, nil
	}
	return k.Config.MonitorAlerts(ctx, monitorID)
}

func (k *known) SetMonitorAlerts(ctx context.Context, monitorID int64, alertIDs []int64) error {
	delete(k.created, monitorID) // it has some now: ask the store again
	return k.Config.SetMonitorAlerts(ctx, monitorID, alertIDs)
}

// forget drops what is remembered of a device's monitors once they are
// written: the file names each device once.
func (k *known) forget(deviceID int64) {
	delete(k.monitors, deviceID)
}

func cloneMonitor(m *store.Monitor) *store.Monitor {
	c := *m
	c.Secrets = maps.Clone(m.Secrets)
	if c.Secrets == nil {
		c.Secrets = map[string]string{}
	}
	return &c
}
