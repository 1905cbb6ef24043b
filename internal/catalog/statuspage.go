package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
)

// checkStatusPages says which devices and monitors the file's status
// pages name that neither the file nor the store holds, with the nearest
// name of either.
func checkStatusPages(ctx context.Context, s store.Config, f *config.File) (config.Problems, error) {
	if len(f.StatusPages) == 0 {
		return nil, nil
	}
	inFile := map[string][]string{} // device -> its monitors, the file's
	for _, d := range f.Devices {
		inFile[d.Name] = []string{}
		for _, m := range d.Monitors {
			inFile[d.Name] = append(inFile[d.Name], m.Name)
		}
	}
	// What the store adds, read once a device.
	stored := map[string][]string{}
	var storedDevices []string
	devicesRead := false
	monitorsOf := func(dev string) ([]string, bool, error) {
		names, ok := inFile[dev]
		if ms, done := stored[dev]; done {
			return append(slices.Clone(names), ms...), ok || ms != nil, nil
		}
		d, err := s.DeviceByName(ctx, dev)
		switch {
		case errors.Is(err, store.ErrNotFound):
			stored[dev] = nil
			return names, ok, nil
		case err != nil:
			return nil, false, err
		}
		ms, err := allMonitors(ctx, s, d.ID)
		if err != nil {
			return nil, false, err
		}
		stored[dev] = []string{}
		for _, m := range ms {
			stored[dev] = append(stored[dev], m.Name)
		}
		return append(slices.Clone(names), stored[dev]...), true, nil
	}
	deviceNames := func() ([]string, error) {
		if !devicesRead {
			err := store.Walk(ctx, 500, s.Devices, store.DeviceID, func(ds []store.Device, _ int) error {
				for _, d := range ds {
					storedDevices = append(storedDevices, d.Name)
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			for d := range inFile {
				storedDevices = append(storedDevices, d)
			}
			devicesRead = true
		}
		return storedDevices, nil
	}
	var ps config.Problems
	bad := func(field, format string, args ...any) {
		ps = append(ps, config.Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	noDevice := func(field, dev string) error {
		all, err := deviceNames()
		if err != nil {
			return err
		}
		bad(field, "no device is named %q%s", dev, probe.DidYouMean(dev, all))
		return nil
	}
	for i, sp := range f.StatusPages {
		for j, name := range sp.Monitors {
			field := fmt.Sprintf("status_pages[%d].monitors[%d]", i, j)
			dev, mon, ok := config.SplitMonitorName(name)
			if !ok {
				continue // said by config.Parse
			}
			ms, found, err := monitorsOf(dev)
			if err != nil {
				return nil, err
			}
			switch {
			case !found:
				if err := noDevice(field, dev); err != nil {
					return nil, err
				}
			case !slices.Contains(ms, mon):
				bad(field, "device %q has no monitor named %q%s", dev, mon, probe.DidYouMean(mon, ms))
			}
		}
		for j, dev := range sp.Devices {
			if _, found, err := monitorsOf(dev); err != nil {
				return nil, err
			} else if !found {
				if err := noDevice(fmt.Sprintf("status_pages[%d].devices[%d]", i, j), dev); err != nil {
					return nil, err
				}
			}
		}
	}
	return ps, nil
}

// putStatusPage stores a status page by name.
func putStatusPage(ctx context.Context, o Origin, s store.Config, sp config.StatusPage) (Change, error) {
	spec, err := json.Marshal(sp)
	if err != nil {
		return Change{}, err
	}
	ch := Change{Kind: "status_page", Name: sp.Name}
	p, err := s.StatusPageByName(ctx, sp.Name)
	var before snapshot
	switch {
	case errors.Is(err, store.ErrNotFound):
		p = &store.StatusPage{Name: sp.Name}
		ch.Action = "created"
	case err != nil:
		return ch, err
	case p.Public == sp.Public && sameJSON(p.Spec, spec):
		ch.Action, ch.ID = "unchanged", p.ID
		return ch, nil
	default:
		before = snap(p.Spec, nil, nil)
		ch.Action = "updated"
	}
	p.Public, p.Spec = sp.Public, spec
	if err := s.PutStatusPage(ctx, p); err != nil {
		return ch, err
	}
	ch.ID = p.ID
	return ch, audit(ctx, s, o, ch, before, snap(p.Spec, nil, nil))
}

// StatusPage reads a stored status page's settings.
func StatusPage(p *store.StatusPage) (config.StatusPage, error) {
	var sp config.StatusPage
	if err := json.Unmarshal(p.Spec, &sp); err != nil {
		return sp, fmt.Errorf("status page %s: %w", p.Name, err)
	}
	sp.Name, sp.Public = p.Name, p.Public
	return sp, nil
}

// DeleteStatusPage deletes a status page by name (store.ErrNotFound:
// none), audited: apply only creates and updates.
func (c *Catalog) DeleteStatusPage(ctx context.Context, o Origin, name string) error {
	if err := o.Actor.mayWrite("status page"); err != nil {
		return err
	}
	return c.batch(ctx, func(tx store.Config) error {
		p, err := tx.StatusPageByName(ctx, name)
		if err != nil {
			return err
		}
		ch := Change{Kind: "status_page", Name: p.Name, Action: "deleted", ID: p.ID}
		if err := audit(ctx, tx, o, ch, snap(p.Spec, nil, nil), snapshot{}); err != nil {
			return err
		}
		return tx.DeleteStatusPage(ctx, p.ID)
	})
}
