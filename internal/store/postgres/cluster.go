package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlstore"
)

// nowMS is the database's clock in Unix milliseconds: leases and claims are
// compared in one clock, whatever the nodes' clocks say.
const nowMS = `(extract(epoch from clock_timestamp())*1000)::bigint`

// fence is the Dialect's Fence: the node must still hold the lease, and
// its heartbeat must still be fresh: a node that lost it (and whose
// monitor another node tests now) stores nothing. FOR SHARE keeps the
// lease from moving until the test's transaction ends (the node's row is
// not locked: its heartbeat must not wait for tests).
func fence(ctx context.Context, tx sqlstore.Conn, f *store.Fence) error {
	var ok bool
	err := tx.QueryRow(ctx, `SELECT n.expires_ms > `+nowMS+` FROM monitor_leases l JOIN nodes n ON n.id = l.node_id
		WHERE l.monitor_id=? AND l.location=? AND l.node_id=? FOR SHARE OF l`, f.Lease.MonitorID, f.Lease.Location, f.Node).Scan(&ok)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !ok) {
		return store.ErrLeaseLost
	}
	return err
}

// Heartbeat registers n or renews it (and whether it is leaving). A node
// whose row had expired is not renewed (ErrNodeExpired): others may hold
// its monitors by now. Nodes dead for an hour are removed.
func (s *Store) Heartbeat(ctx context.Context, n store.Node, ttl time.Duration) ([]store.Node, error) {
	var id string
	err := s.db.QueryRow(ctx, `INSERT INTO nodes(id, name, location, started_ms, expires_ms, leaving) VALUES(?, ?, ?, `+nowMS+`, `+nowMS+` + ?, ?)
		ON CONFLICT (id) DO UPDATE SET expires_ms=excluded.expires_ms, leaving=excluded.leaving WHERE nodes.expires_ms > `+nowMS+`
		RETURNING id`, n.ID, n.Name, n.Location, ttl.Milliseconds(), n.Leaving).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNodeExpired
	}
	if err != nil {
		return nil, err
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM nodes WHERE expires_ms < `+nowMS+` - 3600000`); err != nil {
		return nil, err
	}
	return s.Nodes(ctx)
}

func (s *Store) Nodes(ctx context.Context) ([]store.Node, error) {
	return sqlstore.List(ctx, s.db, func(r sqlstore.Row) (store.Node, error) {
		var n store.Node
		var st, ex int64
		if err := r.Scan(&n.ID, &n.Name, &n.Location, &st, &ex, &n.Leaving); err != nil {
			return n, err
		}
		n.Started, n.Expires = time.UnixMilli(st).UTC(), time.UnixMilli(ex).UTC()
		return n, nil
	}, `SELECT id, name, location, started_ms, expires_ms, leaving FROM nodes WHERE expires_ms > `+nowMS+` ORDER BY id`)
}

func scanLease(r sqlstore.Row) (store.Lease, error) {
	var l store.Lease
	return l, r.Scan(&l.MonitorID, &l.Location)
}

func (s *Store) Leases(ctx context.Context, node string) ([]store.Lease, error) {
	return sqlstore.List(ctx, s.db, scanLease, `SELECT monitor_id, location FROM monitor_leases WHERE node_id=? ORDER BY monitor_id, location`, node)
}

// leaseArrays are ls as two arrays, for unnest.
func leaseArrays(ls []store.Lease) (ids []int64, locs []string) {
	ids, locs = make([]int64, len(ls)), make([]string, len(ls))
	for i, l := range ls {
		ids[i], locs[i] = l.MonitorID, l.Location
	}
	return ids, locs
}

// Acquire makes sure a lease row exists for each of want, then takes up to
// n of them that are free: FOR UPDATE SKIP LOCKED lets nodes acquiring at
// the same moment take different rows instead of waiting for each other.
func (s *Store) Acquire(ctx context.Context, node string, want []store.Lease, n int) ([]store.Lease, error) {
	if n <= 0 || len(want) == 0 {
		return nil, nil
	}
	ids, locs := leaseArrays(want)
	var out []store.Lease
	err := sqlstore.InTx(ctx, s.db, func(tx sqlstore.Conn) error {
		// Rows for monitors deleted meanwhile are skipped (the join).
		if _, err := tx.Exec(ctx, `INSERT INTO monitor_leases(monitor_id, location)
			SELECT w.id, w.loc FROM unnest(?::bigint[], ?::text[]) AS w(id, loc) JOIN monitors m ON m.id = w.id
			ON CONFLICT DO NOTHING`, ids, locs); err != nil {
			return err
		}
		var err error
		out, err = sqlstore.List(ctx, tx, scanLease, `UPDATE monitor_leases l SET node_id=?, acquired_ms=`+nowMS+`
			FROM (SELECT l.monitor_id, l.location FROM monitor_leases l
				JOIN unnest(?::bigint[], ?::text[]) AS w(id, loc) ON l.monitor_id = w.id AND l.location = w.loc
				WHERE l.node_id IS NULL OR NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = l.node_id AND n.expires_ms > `+nowMS+`)
				ORDER BY l.monitor_id LIMIT ?
				FOR UPDATE OF l SKIP LOCKED) free
			WHERE l.monitor_id = free.monitor_id AND l.location = free.location
			RETURNING l.monitor_id, l.location`, node, ids, locs, n)
		return err
	})
	return out, err
}

func (s *Store) Release(ctx context.Context, node string, ls []store.Lease) error {
	if len(ls) == 0 {
		return nil
	}
	ids, locs := leaseArrays(ls)
	_, err := s.db.Exec(ctx, `UPDATE monitor_leases l SET node_id=NULL FROM unnest(?::bigint[], ?::text[]) AS w(id, loc)
		WHERE l.monitor_id = w.id AND l.location = w.loc AND l.node_id = ?`, ids, locs, node)
	return err
}

// Handover moves leases from node to another: the giver stops testing
// them first, and the taker finds them among its Leases in its next round.
func (s *Store) Handover(ctx context.Context, node, to string, ls []store.Lease) error {
	if len(ls) == 0 {
		return nil
	}
	ids, locs := leaseArrays(ls)
	_, err := s.db.Exec(ctx, `UPDATE monitor_leases l SET node_id=?, acquired_ms=`+nowMS+` FROM unnest(?::bigint[], ?::text[]) AS w(id, loc)
		WHERE l.monitor_id = w.id AND l.location = w.loc AND l.node_id = ?`, to, ids, locs, node)
	return err
}

func (s *Store) LeaseCounts(ctx context.Context) ([]store.LeaseCount, error) {
	return sqlstore.List(ctx, s.db, func(r sqlstore.Row) (store.LeaseCount, error) {
		var c store.LeaseCount
		return c, r.Scan(&c.Node, &c.Location, &c.N)
	}, `SELECT l.node_id, l.location, count(*) FROM monitor_leases l JOIN nodes n ON n.id = l.node_id
		WHERE n.expires_ms > `+nowMS+` GROUP BY l.node_id, l.location ORDER BY l.node_id, l.location`)
}

func (s *Store) Leave(ctx context.Context, node string) error {
	return sqlstore.InTx(ctx, s.db, func(tx sqlstore.Conn) error {
		if _, err := tx.Exec(ctx, `UPDATE monitor_leases SET node_id=NULL WHERE node_id=?`, node); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM nodes WHERE id=?`, node)
		return err
	})
}

// ClaimNotifications claims pending notifications that no node is
// delivering: no claim, an expired one, or one of a node whose heartbeat
// expired; it skips rows another node is claiming at the same moment. A
// node whose own heartbeat is not fresh (not yet registered, or expired)
// claims nothing: its claim would hold for no one, and another node could
// take the same notification at once. It
// takes the oldest limit of each action (as PendingNotifications does): an
// action whose receiver is away, its backlog piling up, starves no other.
// The window picks the candidates (FOR UPDATE is not allowed beside a
// window function); the claimable test is repeated where rows are locked,
// so that a row another node claimed since is checked again there. A row
// is Reclaimed when a send of it may have begun (begun_ms, set by
// BeginNotification and never cleared): a claim that lapsed unsent (held
// for its action's hours, its node killed before it sent) is not a late
// resend.
func (s *Store) ClaimNotifications(ctx context.Context, node string, hold time.Duration, limit int) ([]store.Notification, error) {
	if limit <= 0 {
		limit = 100
	}
	const claimable = `status = ? AND (claim_until_ms IS NULL OR claim_until_ms < ` + nowMS + `
		OR (claimed_by IS NOT NULL AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = o.claimed_by AND n.expires_ms > ` + nowMS + `)))`
	return sqlstore.List(ctx, s.db, scanClaimed, `UPDATE alert_log a SET claim_until_ms = `+nowMS+` + ?, claimed_by = ?
		FROM (SELECT id, begun_ms AS begun FROM alert_log o WHERE `+claimable+` AND id IN (
				SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY alert_id ORDER BY id) AS n FROM alert_log o WHERE `+claimable+`) w
				WHERE n <= ?)
				AND EXISTS (SELECT 1 FROM nodes me WHERE me.id = ? AND me.expires_ms > `+nowMS+`)
			ORDER BY id FOR UPDATE SKIP LOCKED) c
		WHERE a.id = c.id
		RETURNING a.id, a.event_id, a.monitor_id, a.alert_id, a.kind, a.payload, a.status, a.attempts, a.last_error, a.created_ms, a.done_ms,
			c.begun IS NOT NULL`,
		hold.Milliseconds(), node, store.NotifyPending, store.NotifyPending, limit, node)
}

// BeginNotification writes that node begins a send of notification id,
// while its claim is live: its own, not expired, its heartbeat fresh (the
// database's clock). The first send's time is kept (begun_ms).
func (s *Store) BeginNotification(ctx context.Context, node string, id int64) error {
	n, err := s.db.Exec(ctx, `UPDATE alert_log SET begun_ms = COALESCE(begun_ms, `+nowMS+`)
		WHERE id = ? AND status = ? AND claimed_by = ? AND claim_until_ms > `+nowMS+`
			AND EXISTS (SELECT 1 FROM nodes me WHERE me.id = ? AND me.expires_ms > `+nowMS+`)`,
		id, store.NotifyPending, node, node)
	if err == nil && n == 0 {
		return store.ErrNotClaimed
	}
	return err
}

// scanClaimed scans a claimed notification and whether a send of it may
// have begun before.
func scanClaimed(r sqlstore.Row) (store.Notification, error) {
	var reclaimed bool
	n, err := sqlstore.ScanNotification(extraRow{r, []any{&reclaimed}})
	n.Reclaimed = reclaimed
	return n, err
}

// extraRow scans the columns after those its caller asks for into extra.
type extraRow struct {
	sqlstore.Row
	extra []any
}

func (r extraRow) Scan(dest ...any) error { return r.Row.Scan(append(dest, r.extra...)...) }

// Unclaim ends node's claims among ids; a claim another node has taken
// since (node's heartbeat expired meanwhile) is that node's, and stays.
func (s *Store) Unclaim(ctx context.Context, node string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.db.Exec(ctx, `UPDATE alert_log SET claim_until_ms = NULL, claimed_by = NULL WHERE id = ANY(?) AND claimed_by = ?`, ids, node)
	return err
}
