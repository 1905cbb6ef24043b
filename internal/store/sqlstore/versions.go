package sqlstore

import (
	"context"
	"time"
)

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
