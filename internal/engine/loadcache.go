package engine

import (
	"context"
	"log/slog"

	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// loadCache is what Load reads once for all the monitors it loads: each
// device (the monitors of a device share it) and the states of them all
// (a store that can read them at once: store.States), else the statuses
// of the page of monitors being loaded. A nil loadCache reads each anew
// (a monitor reloaded alone).
type loadCache struct {
	devices map[int64]*store.Device
	// states are every stored state (store.States), read once before
	// the first page; a monitor missing has none. nil: statuses.
	states   map[int64]state.Status
	statuses map[int64]*store.Status // of the page; a monitor missing has none
	// alerts are the alerts of the page's monitors (a store that can
	// read them at once: store.MonitorsAlerts); nil: read each alone.
	alerts map[int64][]int64
	// clamps are the timing clamps of the monitors loaded, by message,
	// in the order first met, logged once each by logClamps.
	clamps  []clamped
	clampAt map[string]int // a message's place in clamps
}

// clamped is one clamp of a monitor's timing (config.ClampTiming's
// message), the monitors it applies to and the first of them.
type clamped struct {
	msg       string
	monitors  int
	firstID   int64
	firstName string
}

// clamp notes that monitor m's timing was clamped, msg saying how.
func (lc *loadCache) clamp(msg string, m *store.Monitor) {
	if i, ok := lc.clampAt[msg]; ok {
		lc.clamps[i].monitors++
		return
	}
	if lc.clampAt == nil {
		lc.clampAt = map[string]int{}
	}
	lc.clampAt[msg] = len(lc.clamps)
	lc.clamps = append(lc.clamps, clamped{msg: msg, monitors: 1, firstID: m.ID, firstName: m.Name})
}

// logClamps logs each clamp once: for one monitor as a monitor reloaded
// alone logs it, for several with their number and the first of them.
func (lc *loadCache) logClamps(log *slog.Logger) {
	for _, c := range lc.clamps {
		if c.monitors == 1 {
			log.Warn("monitor timing outside this server's limits: "+c.msg, "monitor", c.firstID, "name", c.firstName)
			continue
		}
		log.Warn("monitor timing outside this server's limits: "+c.msg, "monitors", c.monitors, "first", c.firstID, "name", c.firstName)
	}
}

// readStates reads every state at once if st can (store.States): in the
// order the store keeps them, where a page's statuses, read by id, lie
// scattered over SQLite's table (kept by slot).
func (lc *loadCache) readStates(ctx context.Context, st store.Store) error {
	ss, ok := st.(store.States)
	if !ok {
		return nil
	}
	var err error
	lc.states, err = ss.States(ctx)
	return err
}

// readPage reads the statuses (unless readStates read them all) and
// alerts of ms, the page about to be loaded.
func (lc *loadCache) readPage(ctx context.Context, st store.Store, ms []store.Monitor) error {
	ids := make([]int64, len(ms))
	for i := range ms {
		ids[i] = ms[i].ID
	}
	var err error
	if lc.states == nil {
		if lc.statuses, err = st.Statuses(ctx, ids); err != nil {
			return err
		}
	}
	if ma, ok := st.(store.MonitorsAlerts); ok {
		lc.alerts, err = ma.MonitorsAlerts(ctx, ids)
	}
	return err
}

// monitorAlerts are monitor id's alerts.
func (lc *loadCache) monitorAlerts(ctx context.Context, st store.Store, id int64) ([]int64, error) {
	if lc == nil || lc.alerts == nil {
		return st.MonitorAlerts(ctx, id)
	}
	return lc.alerts[id], nil
}

// status is monitor id's stored status, store.ErrNotFound if it has none.
func (lc *loadCache) status(ctx context.Context, st store.Store, id int64) (*store.Status, error) {
	if lc == nil || lc.statuses == nil {
		return st.Status(ctx, id)
	}
	if s, ok := lc.statuses[id]; ok {
		return s, nil
	}
	return nil, store.ErrNotFound
}

// device is device id, read once.
func (lc *loadCache) device(ctx context.Context, st store.Store, id int64) (*store.Device, error) {
	if lc == nil {
		return st.Device(ctx, id)
	}
	if d, ok := lc.devices[id]; ok {
		return d, nil
	}
	d, err := st.Device(ctx, id)
	if err == nil {
		lc.devices[id] = d
	}
	return d, err
}

// state is monitor id's stored state, store.ErrNotFound if it has none.
func (lc *loadCache) state(ctx context.Context, st store.Store, id int64) (state.Status, error) {
	if lc != nil && lc.states != nil {
		if s, ok := lc.states[id]; ok {
			return s, nil
		}
		return state.Status{}, store.ErrNotFound
	}
	s, err := lc.status(ctx, st, id)
	if err != nil {
		return state.Status{}, err
	}
	return s.Status, nil
}
