package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// ---- devices

func (s *Store) PutDevice(ctx context.Context, d *store.Device) error {
	t := now()
	if d.ID == 0 {
		err := s.w.QueryRow(ctx, `INSERT INTO devices(name, address, network_target, maintenance, created_ms, updated_ms) VALUES(?,?,?,?,?,?) RETURNING id`,
			d.Name, d.Address, d.NetworkTarget, string(d.Maintenance), ms(t), ms(t)).Scan(&d.ID)
		if err != nil {
			return s.conflict(err)
		}
		d.Created, d.Updated = t, t
		return nil
	}
	d.Updated = t
	return s.conflict(affected(s.w.Exec(ctx, `UPDATE devices SET name=?, address=?, network_target=?, maintenance=?, updated_ms=? WHERE id=?`,
		d.Name, d.Address, d.NetworkTarget, string(d.Maintenance), ms(t), d.ID)))
}

var devices = named[store.Device]{"devices", `id, name, address, network_target, maintenance, created_ms, updated_ms`, scanDevice}

func scanDevice(sc Row) (store.Device, error) {
	var d store.Device
	var c, u int64
	var maint string
	if err := sc.Scan(&d.ID, &d.Name, &d.Address, &d.NetworkTarget, &maint, &c, &u); err != nil {
		return d, notFound(err)
	}
	if maint != "" {
		d.Maintenance = []byte(maint)
	}
	d.Created, d.Updated = fromMS(c), fromMS(u)
	return d, nil
}

func (s *Store) Device(ctx context.Context, id int64) (*store.Device, error) {
	return devices.get(ctx, s.r, "id", id)
}

func (s *Store) DeviceByName(ctx context.Context, name string) (*store.Device, error) {
	return devices.get(ctx, s.r, "name", name)
}

func (s *Store) Devices(ctx context.Context, p store.Page) ([]store.Device, int, error) {
	return devices.page(ctx, s.r, p)
}

// DeleteDevice deletes a device, its monitors (a foreign key's cascade)
// and theirs (deleteMonitorRows).
func (s *Store) DeleteDevice(ctx context.Context, id int64) error {
	return s.tx(ctx, func(tx Conn) error {
		if err := s.deleteMonitorRows(ctx, tx, `IN (SELECT id FROM monitors WHERE device_id=?)`, id); err != nil {
			return err
		}
		return devices.delete(ctx, tx, id)
	})
}

// ---- monitors

func (s *Store) PutMonitor(ctx context.Context, m *store.Monitor) error {
	t := now()
	if m.ID == 0 {
		err := s.w.QueryRow(ctx, `INSERT INTO monitors(device_id, name, type, enabled, spec, secrets, network_target, created_ms, updated_ms, shown_rank)
			VALUES(?,?,?,?,?,?,?,?,?,?) RETURNING id`, m.DeviceID, m.Name, m.Type, m.Enabled, specJSON(m.Spec), secretsJSON(m.Secrets), m.NetworkTarget, ms(t), ms(t),
			store.Rank(store.Shown("", m.Enabled))).Scan(&m.ID)
		if err != nil {
			if s.d.ForeignKey(err) {
				return fmt.Errorf("device %d: %w", m.DeviceID, store.ErrNotFound)
			}
			return s.conflict(err)
		}
		m.Created, m.Updated = t, t
		return nil
	}
	m.Updated = t
	return s.conflict(affected(s.w.Exec(ctx, `UPDATE monitors SET device_id=?, name=?, type=?, enabled=?, spec=?, secrets=?, network_target=?, updated_ms=?,
		shown_rank=CASE WHEN ? THEN coalesce((SELECT `+rankOf("st.state")+` FROM monitor_status st WHERE st.monitor_id=?), ?) ELSE ? END WHERE id=?`,
		m.DeviceID, m.Name, m.Type, m.Enabled, specJSON(m.Spec), secretsJSON(m.Secrets), m.NetworkTarget, ms(t),
		m.Enabled, m.ID, store.Rank(state.Pending), store.Rank(state.Disabled), m.ID)))
}

const monitorCols = `m.id, m.device_id, m.name, m.type, m.enabled, m.spec, m.secrets, m.network_target, m.created_ms, m.updated_ms`

func scanMonitor(sc Row) (store.Monitor, error) {
	var m store.Monitor
	var spec, secrets string
	var c, u int64
	if err := sc.Scan(&m.ID, &m.DeviceID, &m.Name, &m.Type, &m.Enabled, &spec, &secrets, &m.NetworkTarget, &c, &u); err != nil {
		return m, notFound(err)
	}
	m.Spec = json.RawMessage(spec)
	if err := json.Unmarshal([]byte(secrets), &m.Secrets); err != nil {
		return m, fmt.Errorf("monitor %d secrets: %w", m.ID, err)
	}
	m.Created, m.Updated = fromMS(c), fromMS(u)
	return m, nil
}

func (s *Store) Monitor(ctx context.Context, id int64) (*store.Monitor, error) {
	return one(scanMonitor(s.r.QueryRow(ctx, `SELECT `+monitorCols+` FROM monitors m WHERE m.id=?`, id)))
}

func (s *Store) MonitorByName(ctx context.Context, deviceID int64, name string) (*store.Monitor, error) {
	return one(scanMonitor(s.r.QueryRow(ctx, `SELECT `+monitorCols+` FROM monitors m WHERE m.device_id=? AND m.name=?`, deviceID, name)))
}

func (s *Store) Monitors(ctx context.Context, f store.MonitorFilter) ([]store.Monitor, int, error) {
	where, args := s.monitorWhere(f)
	if f.State != "" {
		where, args = where+" AND m.shown_rank=?", append(args, store.Rank(f.State))
	}
	var total int
	count := `SELECT count(*) FROM monitors m WHERE ` + where
	if allMonitors(f) {
		count = `SELECT coalesce(sum(n), 0) FROM board_counts m WHERE ` + where
	}
	if err := s.r.QueryRow(ctx, count, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	if f.ByID {
		// The primary key's order: each page a search of it from After.
		out, err := List(ctx, s.r, scanMonitor, `SELECT `+monitorCols+` FROM monitors m WHERE `+where+` AND m.id>? ORDER BY m.id LIMIT ?`,
			append(args, f.After, f.LimitOr(100))...)
		return out, total, err
	}
	from := ` FROM monitors m`
	if f.Order == store.DeviceWorstFirst {
		from += ` JOIN devices d ON d.id=m.device_id`
	}
	out, err := List(ctx, s.r, scanMonitor, `SELECT `+monitorCols+from+` WHERE `+where+` ORDER BY `+monitorOrder(f.Order)+` LIMIT ? OFFSET ?`,
		append(args, f.LimitOr(100), f.Offset)...)
	return out, total, err
}

func (s *Store) DeleteMonitor(ctx context.Context, id int64) error {
	return s.tx(ctx, func(tx Conn) error {
		if err := s.deleteMonitorRows(ctx, tx, `=?`, id); err != nil {
			return err
		}
		return affected(tx.Exec(ctx, `DELETE FROM monitors WHERE id=?`, id))
	})
}

// deleteMonitorRows deletes the results, roll-ups and history of the
// monitors whose id is ids (with arg), which are being deleted: nothing
// else would (a prune deletes results and hourly roll-ups only when old,
// daily roll-ups are kept for good, and a new monitor may get a deleted
// one's id in SQLite). In turn with the janitor's roll-ups (another
// node's too), which write those of the monitors that exist.
func (s *Store) deleteMonitorRows(ctx context.Context, tx Conn, ids string, arg int64) error {
	if s.d.RollupLock != nil {
		if err := s.d.RollupLock(ctx, tx); err != nil {
			return err
		}
	}
	for _, table := range []string{"results", "rollups", "state_changes"} {
		if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE monitor_id `+ids, arg); err != nil {
			return err
		}
	}
	return nil
}

// ---- alerts

func (s *Store) PutAlert(ctx context.Context, a *store.Alert) error {
	t := now()
	if a.ID == 0 {
		err := s.w.QueryRow(ctx, `INSERT INTO alerts(name, kind, spec, secrets, network_target, created_ms, updated_ms) VALUES(?,?,?,?,?,?,?) RETURNING id`,
			a.Name, a.Kind, specJSON(a.Spec), secretsJSON(a.Secrets), a.NetworkTarget, ms(t), ms(t)).Scan(&a.ID)
		if err != nil {
			return s.conflict(err)
		}
		a.Created, a.Updated = t, t
		return nil
	}
	a.Updated = t
	return s.conflict(affected(s.w.Exec(ctx, `UPDATE alerts SET name=?, kind=?, spec=?, secrets=?, network_target=?, updated_ms=? WHERE id=?`,
		a.Name, a.Kind, specJSON(a.Spec), secretsJSON(a.Secrets), a.NetworkTarget, ms(t), a.ID)))
}

var alerts = named[store.Alert]{"alerts", `id, name, kind, spec, secrets, network_target, created_ms, updated_ms`, scanAlert}

func scanAlert(sc Row) (store.Alert, error) {
	var a store.Alert
	var spec, secrets string
	var c, u int64
	if err := sc.Scan(&a.ID, &a.Name, &a.Kind, &spec, &secrets, &a.NetworkTarget, &c, &u); err != nil {
		return a, notFound(err)
	}
	a.Spec = json.RawMessage(spec)
	if err := json.Unmarshal([]byte(secrets), &a.Secrets); err != nil {
		return a, err
	}
	a.Created, a.Updated = fromMS(c), fromMS(u)
	return a, nil
}

func (s *Store) Alert(ctx context.Context, id int64) (*store.Alert, error) {
	return alerts.get(ctx, s.r, "id", id)
}

func (s *Store) AlertByName(ctx context.Context, name string) (*store.Alert, error) {
	return alerts.get(ctx, s.r, "name", name)
}

func (s *Store) Alerts(ctx context.Context, p store.Page) ([]store.Alert, int, error) {
	return alerts.page(ctx, s.r, p)
}

func (s *Store) DeleteAlert(ctx context.Context, id int64) error { return alerts.delete(ctx, s.w, id) }

func (s *Store) SetMonitorAlerts(ctx context.Context, monitorID int64, alertIDs []int64) error {
	return s.tx(ctx, func(tx Conn) error {
		if _, err := tx.Exec(ctx, `DELETE FROM monitor_alerts WHERE monitor_id=?`, monitorID); err != nil {
			return err
		}
		for _, a := range alertIDs {
			if _, err := tx.Exec(ctx, `INSERT INTO monitor_alerts(monitor_id, alert_id) VALUES(?,?) ON CONFLICT DO NOTHING`, monitorID, a); err != nil {
				return s.missing(err)
			}
		}
		// The assignment is part of the monitor: a daemon watching for
		// changes sees it by the monitor's update time.
		t := ms(time.Now())
		_, err := tx.Exec(ctx, `UPDATE monitors SET updated_ms=CASE WHEN updated_ms+1 > ? THEN updated_ms+1 ELSE ? END WHERE id=?`, t, t, monitorID)
		return err
	})
}

func (s *Store) MonitorAlerts(ctx context.Context, monitorID int64) ([]int64, error) {
	return List(ctx, s.r, func(r Row) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, `SELECT alert_id FROM monitor_alerts WHERE monitor_id=? ORDER BY alert_id`, monitorID)
}

func (s *Store) MonitorsAlerts(ctx context.Context, ids []int64) (map[int64][]int64, error) {
	out := map[int64][]int64{}
	if len(ids) == 0 {
		return out, nil
	}
	in, args := idList(ids)
	type link struct{ monitor, alert int64 }
	links, err := List(ctx, s.r, func(r Row) (link, error) {
		var l link
		return l, r.Scan(&l.monitor, &l.alert)
	}, `SELECT monitor_id, alert_id FROM monitor_alerts WHERE monitor_id IN (`+in+`) ORDER BY monitor_id, alert_id`, args...)
	for _, l := range links {
		out[l.monitor] = append(out[l.monitor], l.alert)
	}
	return out, err
}
