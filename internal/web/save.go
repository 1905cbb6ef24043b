package web

import (
	"context"
	"errors"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
)

// The forms save through the catalog, as the network (catalog.Network) named by the session's user,
// and tell the engine what changed. A name taken is a field error here,
// shown beside the name.

// tell has the engine read again what a save changed.
func (s *Server) tell(ctx context.Context, res catalog.Result) error {
	if s.Engine == nil {
		return nil
	}
	return res.Tell(ctx, s.Engine)
}

// saveDevice creates (id 0) or updates a device; it says which stored
// secrets of the device's monitors a new address dropped.
// Windows, when not nil, replace its maintenance windows.
func (s *Server) saveDevice(ctx context.Context, o catalog.Origin, id int64, f deviceForm, windows *[]config.Window) (*store.Device, []catalog.Drop, error) {
	d, res, err := s.Catalog.SaveDevice(ctx, o, id, catalog.Device{Name: f.Name, Address: f.Address, Maintenance: windows})
	if errors.Is(err, store.ErrConflict) {
		return nil, nil, catalog.FieldErrors{{Path: "name", Msg: "another device has this name"}}
	}
	if err != nil {
		return nil, nil, err
	}
	return d, res.Dropped, s.tell(ctx, res)
}

// saveMonitor creates (id 0) or replaces a monitor; it names the stored
// secrets the change of target dropped (those not sent again).
func (s *Server) saveMonitor(ctx context.Context, o catalog.Origin, id int64, in catalog.Monitor) (*store.Monitor, []string, error) {
	m, res, err := s.Catalog.SaveMonitor(ctx, o, id, in)
	if errors.Is(err, store.ErrConflict) {
		return nil, nil, catalog.FieldErrors{{Path: "name", Msg: "another monitor of this device has this name"}}
	}
	if err != nil {
		return nil, nil, err
	}
	return m, res.DroppedFrom("monitor", m.ID), s.tell(ctx, res)
}
