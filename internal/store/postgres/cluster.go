package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mailmon/mailmon/internal/store"
)

// Heartbeat registers n or renews it. A node whose row had expired is not
// renewed (ErrNodeExpired): others may hold its monitors by now. Nodes
// dead for an hour are removed.
func (s *Store) Heartbeat(ctx context.Context, n store.Node, ttl time.Duration) ([]store.Node, error) {
	var id string
	err := s.row(ctx, `INSERT INTO nodes(id, name, location, started_ms, expires_ms) VALUES(?, ?, ?, `+nowMS+`, `+nowMS+` + ?)
		ON CONFLICT (id) DO UPDATE SET expires_ms=excluded.expires_ms WHERE nodes.expires_ms > `+nowMS+`
		RETURNING id`, n.ID, n.Name, n.Location, ttl.Milliseconds()).Scan(&id)
	if err == pgx.ErrNoRows {
		return nil, store.ErrNodeExpired
	}
	if err != nil {
		return nil, err
	}
	if _, err := s.exec(ctx, `DELETE FROM nodes WHERE expires_ms < `+nowMS+` - 3600000`); err != nil {
		return nil, err
	}
	return s.Nodes(ctx)
}

func (s *Store) Nodes(ctx context.Context) ([]store.Node, error) {
	return list(ctx, s, func(r pgx.Rows) (*store.Node, error) {
		var n store.Node
		var st, ex int64
		if err := r.Scan(&n.ID, &n.Name, &n.Location, &st, &ex); err != nil {
			return nil, err
		}
		n.Started, n.Expires = fromMS(st), fromMS(ex)
		return &n, nil
	}, `SELECT id, name, location, started_ms, expires_ms FROM nodes WHERE expires_ms > `+nowMS+` ORDER BY id`)
}

func scanLease(r pgx.Rows) (*store.Lease, error) {
	var l store.Lease
	return &l, r.Scan(&l.MonitorID, &l.Location)
}

func (s *Store) Leases(ctx context.Context, node string) ([]store.Lease, error) {
	return list(ctx, s, scanLease, `SELECT monitor_id, location FROM monitor_leases WHERE node_id=? ORDER BY monitor_id, location`, node)
}

// Acquire makes sure a lease row exists for each of want, then takes up to
// n of them that are free: FOR UPDATE SKIP LOCKED lets nodes acquiring at
// the same moment take different rows instead of waiting for each other.
func (s *Store) Acquire(ctx context.Context, node string, want []store.Lease, n int) ([]store.Lease, error) {
	if n <= 0 || len(want) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(want))
	locs := make([]string, len(want))
	for i, l := range want {
		ids[i], locs[i] = l.MonitorID, l.Location
	}
	var out []store.Lease
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// Rows for monitors deleted meanwhile are skipped (the join).
		if _, err := tx.Exec(ctx, `INSERT INTO monitor_leases(monitor_id, location)
			SELECT w.id, w.loc FROM unnest($1::bigint[], $2::text[]) AS w(id, loc) JOIN monitors m ON m.id = w.id
			ON CONFLICT DO NOTHING`, ids, locs); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `UPDATE monitor_leases l SET node_id=$3, acquired_ms=`+nowMS+`
			FROM (SELECT l.monitor_id, l.location FROM monitor_leases l
				JOIN unnest($1::bigint[], $2::text[]) AS w(id, loc) ON l.monitor_id = w.id AND l.location = w.loc
				WHERE l.node_id IS NULL OR NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = l.node_id AND n.expires_ms > `+nowMS+`)
				ORDER BY l.monitor_id LIMIT $4
				FOR UPDATE OF l SKIP LOCKED) free
			WHERE l.monitor_id = free.monitor_id AND l.location = free.location
			RETURNING l.monitor_id, l.location`, ids, locs, node, n)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Lease, error) {
			var l store.Lease
			return l, r.Scan(&l.MonitorID, &l.Location)
		})
		return err
	})
	return out, err
}

func (s *Store) Release(ctx context.Context, node string, ls []store.Lease) error {
	if len(ls) == 0 {
		return nil
	}
	ids := make([]int64, len(ls))
	locs := make([]string, len(ls))
	for i, l := range ls {
		ids[i], locs[i] = l.MonitorID, l.Location
	}
	_, err := s.p.Exec(ctx, `UPDATE monitor_leases l SET node_id=NULL FROM unnest($1::bigint[], $2::text[]) AS w(id, loc)
		WHERE l.monitor_id = w.id AND l.location = w.loc AND l.node_id = $3`, ids, locs, node)
	return err
}

func (s *Store) Leave(ctx context.Context, node string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := txExec(ctx, tx, `UPDATE monitor_leases SET node_id=NULL WHERE node_id=?`, node); err != nil {
			return err
		}
		_, err := txExec(ctx, tx, `DELETE FROM nodes WHERE id=?`, node)
		return err
	})
}

// ClaimNotifications claims pending notifications that no node is
// delivering (no claim, or an expired one), skipping rows another node is
// claiming at the same moment.
func (s *Store) ClaimNotifications(ctx context.Context, node string, hold time.Duration, limit int) ([]store.Notification, error) {
	if limit <= 0 {
		limit = 100
	}
	return list(ctx, s, scanNotification, `UPDATE alert_log a SET claim_until_ms = `+nowMS+` + ?
		FROM (SELECT id FROM alert_log WHERE status = ? AND (claim_until_ms IS NULL OR claim_until_ms < `+nowMS+`)
			ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED) c
		WHERE a.id = c.id
		RETURNING a.id, a.event_id, a.monitor_id, a.alert_id, a.kind, a.payload, a.status, a.attempts, a.last_error, a.created_ms, a.done_ms`,
		hold.Milliseconds(), store.NotifyPending, limit)
}

func (s *Store) Unclaim(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.p.Exec(ctx, `UPDATE alert_log SET claim_until_ms = NULL WHERE id = ANY($1)`, ids)
	return err
}
