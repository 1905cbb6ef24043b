package sqlstore

import (
	"context"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// MonitorsFingerprint is store.MonitorVersions' fingerprint: one row.
func (s *Store) MonitorsFingerprint(ctx context.Context) (store.Fingerprint, error) {
	var f store.Fingerprint
	err := s.r.QueryRow(ctx, `SELECT count(*), coalesce(max(id), 0), CAST(coalesce(sum(id), 0) AS BIGINT), coalesce(max(updated_ms), 0), CAST(coalesce(sum(updated_ms), 0) AS BIGINT) FROM monitors`).
		Scan(&f.Count, &f.MaxID, &f.SumID, &f.MaxUpdated, &f.SumUpdated)
	return f, err
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
