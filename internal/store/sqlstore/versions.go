package sqlstore

import (
	"context"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// ConfigChanges is store.MonitorVersions' counts: one row, kept by the
// triggers of migration 00019.
func (s *Store) ConfigChanges(ctx context.Context) (store.Changes, error) {
	var c store.Changes
	err := s.r.QueryRow(ctx, `SELECT monitors, devices, credentials FROM config_changes WHERE id=1`).Scan(&c.Monitors, &c.Devices, &c.Credentials)
	return c, err
}

// MonitorVersions is store.MonitorVersions: one query, two integers a row.
func (s *Store) MonitorVersions(ctx context.Context) (map[int64]time.Time, error) {
	rows, err := s.r.Query(ctx, `SELECT id, updated_ms FROM monitors`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]time.Time{}
	for rows.Next() {
		var id, updated int64
		if err := rows.Scan(&id, &updated); err != nil {
			return nil, err
		}
		out[id] = fromMS(updated)
	}
	return out, rows.Err()
}
