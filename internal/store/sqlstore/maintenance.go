package sqlstore

import (
	"context"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

func (s *Store) PutMaintenanceNow(ctx context.Context, m store.MaintenanceNow) error {
	col, id := "monitor_id", m.MonitorID
	if m.DeviceID != 0 {
		col, id = "device_id", m.DeviceID
	}
	_, err := s.w.Exec(ctx, `INSERT INTO maintenance_now(`+col+`, until_ms, by_name, at_ms) VALUES(?,?,?,?)
		ON CONFLICT(`+col+`) DO UPDATE SET until_ms=excluded.until_ms, by_name=excluded.by_name, at_ms=excluded.at_ms`,
		id, ms(m.Until), m.By, ms(m.At))
	return s.missing(err)
}

func (s *Store) EndMaintenanceNow(ctx context.Context, monitorID, deviceID int64) error {
	col, id := "monitor_id", monitorID
	if deviceID != 0 {
		col, id = "device_id", deviceID
	}
	return affected(s.w.Exec(ctx, `DELETE FROM maintenance_now WHERE `+col+`=?`, id))
}

func (s *Store) MaintenancesNow(ctx context.Context, now time.Time) ([]store.MaintenanceNow, error) {
	return List(ctx, s.r, func(r Row) (store.MaintenanceNow, error) {
		var m store.MaintenanceNow
		var until, at int64
		err := r.Scan(&m.MonitorID, &m.DeviceID, &until, &m.By, &at)
		m.Until, m.At = fromMS(until), fromMS(at)
		return m, err
	}, `SELECT COALESCE(monitor_id, 0), COALESCE(device_id, 0), until_ms, by_name, at_ms
		FROM maintenance_now WHERE until_ms > ? ORDER BY until_ms`, ms(now))
}
