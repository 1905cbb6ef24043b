package sqlstore

import (
	"context"

	"github.com/mailmon/mailmon/internal/store"
)

func (s *Store) PutAck(ctx context.Context, a store.Ack) error {
	_, err := s.w.Exec(ctx, `INSERT INTO acks(monitor_id, since_ms, by_name, at_ms, comment) VALUES(?,?,?,?,?)
		ON CONFLICT(monitor_id) DO UPDATE SET since_ms=excluded.since_ms, by_name=excluded.by_name, at_ms=excluded.at_ms, comment=excluded.comment`,
		a.MonitorID, ms(a.Since), a.By, ms(a.At), a.Comment)
	return s.missing(err)
}

func (s *Store) AckOf(ctx context.Context, monitorID int64) (*store.Ack, error) {
	a := &store.Ack{MonitorID: monitorID}
	var since, at int64
	err := s.r.QueryRow(ctx, `SELECT since_ms, by_name, at_ms, comment FROM acks WHERE monitor_id=?`, monitorID).Scan(&since, &a.By, &at, &a.Comment)
	if err != nil {
		return nil, notFound(err)
	}
	a.Since, a.At = fromMS(since), fromMS(at)
	return a, nil
}
