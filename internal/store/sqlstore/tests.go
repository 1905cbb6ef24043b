package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/schedule/phase"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// statements are those every test runs, written for a dialect once.
type statements struct {
	version, result, status string
	// statusNew creates a status that must not exist yet: a test checked
	// against version 0 whose monitor another test got to first (a row
	// being inserted cannot be locked by reading it) stores nothing.
	statusNew string
	// same stores a status whose state is the stored one (nearly every
	// test): it writes no state (so not its index) and needs no rank,
	// the board's order being unchanged. It changes no row when there is
	// no status yet, or the stored state (or, checked, the version) is
	// another: then the test is stored by the statements above. An
	// UPDATE, run with Exec: the upsert it was, returning the version to
	// tell a status it created, cost ~9 µs more of the writer's CPU a
	// test (a third of the statement's: BenchmarkRecordTestScale). Nor
	// does it change a row in another slot (its interval changed): the
	// upsert moves it. SQLite's slot is the rowid: setting it here would
	// rewrite the row's index entries at every test.
	same string
	rank string
	// change records a state change (prepared with the others: every
	// monitor's first result has one, 20,000 in a minute at start).
	change string
}

func newStatements(d Dialect) statements {
	return statements{
		version: `SELECT version FROM monitor_status WHERE monitor_id=?` + d.ForUpdate,
		result: `INSERT INTO results(monitor_id, t_ms, status, rtt_us, delivery_us, code, detail, node, location) VALUES(?,?,?,?,?,?,?,?,?)
			ON CONFLICT (` + d.ResultKey + `) DO UPDATE SET status=excluded.status, rtt_us=excluded.rtt_us, delivery_us=excluded.delivery_us,
			code=excluded.code, detail=excluded.detail, node=excluded.node, location=excluded.location`,
		status: `INSERT INTO monitor_status(monitor_id, slot, state, status, last_result, last_ms, version, recent) VALUES(?,?,?,?,?,?,1,` + bytesArg(d) + `)
			ON CONFLICT(monitor_id) DO UPDATE SET slot=excluded.slot, state=excluded.state, status=excluded.status, last_result=excluded.last_result,
			last_ms=excluded.last_ms, version=monitor_status.version+1, ` + recentSet(d),
		statusNew: `INSERT INTO monitor_status(monitor_id, slot, state, status, last_result, last_ms, version, recent) VALUES(?,?,?,?,?,?,1,` + bytesArg(d) + `)
			ON CONFLICT(monitor_id) DO NOTHING`,
		same: `UPDATE monitor_status SET status=?, last_result=?, last_ms=?, version=monitor_status.version+1, ` + recentSet(d) + `
			FROM (SELECT ` + bytesArg(d) + ` AS recent) AS excluded
			WHERE monitor_status.monitor_id=? AND monitor_status.slot=? AND monitor_status.state=? AND (? OR monitor_status.version=?)`,
		// The board's order (board.go): written only when it changes.
		rank:   `UPDATE monitors SET shown_rank=? WHERE id=? AND enabled AND shown_rank<>?`,
		change: `INSERT INTO state_changes(monitor_id, t_ms, from_state, to_state, cause) VALUES(?,?,?,?,?)`,
	}
}

// RecordStatements are the statements every RecordTest runs on d: a
// database that parses each statement anew (SQLite) prepares them once.
func RecordStatements(d Dialect) []string {
	q := newStatements(d)
	return []string{q.version, q.result, q.status, q.statusNew, q.same, q.rank, q.change}
}

func statusCode(s probe.Status) int {
	switch s {
	case probe.StatusWarn:
		return 1
	case probe.StatusDown:
		return 2
	}
	return 0
}

func codeStatus(v int) probe.Status {
	return [...]probe.Status{probe.StatusUp, probe.StatusWarn, probe.StatusDown}[min(max(v, 0), 2)]
}

// jsonText is b, a JSON buffer RecordTest encoded and writes no more, as
// the string the drivers bind as TEXT (a []byte binds as a BLOB, which
// SQLite's json_extract reads as JSONB), without copying it: the copies
// were the result's bytes a second time every test (the string and the
// sql.NullString-like boxing of nullString before, ~0.6 KB a banner
// test, 1.2 KB a STARTTLS one: BenchmarkTestPath's engine+sqlite).
// The drivers copy a string argument as they bind it and keep nothing.
func jsonText(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// resultJSON is json.Marshal(r), byte for byte, at less than half its
// CPU: json.Marshal runs the bytes a MarshalJSON returns through its
// scanner again (to check and compact them), 1.4× the cost of the
// encoding itself for a STARTTLS test's result (BenchmarkLastResultJSON:
// 16 µs against 6.7), and the store encodes one for every test.
// MarshalJSON's bytes are json.Marshal's, byte for byte (probe's
// Result.AppendJSON, tested against it): compact, HTML escaped, valid.
func resultJSON(r *probe.Result) ([]byte, error) { return r.MarshalJSON() }

func (s *Store) RecordTest(ctx context.Context, t store.Test) error {
	b, err := appendStatusJSON(make([]byte, 0, 256), t.Status.Status)
	if err != nil {
		return err
	}
	// The arguments are made once, outside the transaction (which may
	// run more than one statement, or again): NULL is a nil any.
	var st, last any = jsonText(b), nil
	if t.Status.LastResult != nil {
		if b, err = resultJSON(t.Status.LastResult); err != nil {
			return err
		}
		last = jsonText(b)
	}
	r := t.Result
	var detail any
	switch {
	case r.Detail == nil || r.Status == probe.StatusUp:
	case r.Detail == t.Status.LastResult:
		detail = last // the engine's test: one result, encoded once
	default:
		if b, err = resultJSON(r.Detail); err != nil {
			return err
		}
		detail = jsonText(b)
	}
	var code, delivery any
	if r.Code != "" {
		code = string(r.Code)
	}
	if r.Delivery > 0 {
		delivery = r.Delivery.Microseconds()
	}
	slot := phase.Slot(t.Status.MonitorID, t.Interval)
	// ctx is the caller's until the writer takes the transaction, then
	// the one the writer runs its statements under (Options.Record).
	return s.record(ctx, func(ctx context.Context, tx Conn) error {
		if t.Fence != nil && s.d.Fence != nil {
			if err := s.d.Fence(ctx, tx, t.Fence); err != nil {
				return err
			}
		}
		var recent []byte // a status without a result: appends nothing
		if r.MonitorID != 0 {
			recent = appendRecent(make([]byte, 0, recentEntry), r)
		}
		result := func() error {
			if r.MonitorID == 0 {
				return nil
			}
			_, err := tx.Exec(ctx, s.q.result, r.MonitorID, ms(r.Time), statusCode(r.Status), r.RTT.Microseconds(), delivery, code, detail, r.Node, r.Location)
			return err
		}
		// A test that changes the state (every monitor's first) skips
		// same, which changes no row when the stored state is another:
		// 25 µs of the writer's CPU each, 20,000 times in the first
		// minute at start. Had the stored state been the new one after
		// all, the upsert stores the same, its rank unchanged.
		if t.Change == nil && (!t.CheckVersion || t.Status.Version > 0) {
			n, err := tx.Exec(ctx, s.q.same, st, last, ms(t.Status.LastTest), recent,
				t.Status.MonitorID, slot, string(t.Status.Status.State), !t.CheckVersion, t.Status.Version)
			if err != nil {
				return err
			}
			if n > 0 {
				if err := result(); err != nil {
					return err
				}
				return s.recordRest(ctx, tx, t) // the rank is the stored state's
			}
		}
		if t.CheckVersion {
			var v int64
			err := tx.QueryRow(ctx, s.q.version, t.Status.MonitorID).Scan(&v)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if v != t.Status.Version {
				return store.ErrStale
			}
		}
		if err := result(); err != nil {
			return err
		}
		upsert := s.q.status
		if t.CheckVersion && t.Status.Version == 0 {
			upsert = s.q.statusNew
		}
		n, err := tx.Exec(ctx, upsert, t.Status.MonitorID, slot, string(t.Status.Status.State), st, last, ms(t.Status.LastTest), recent)
		if err != nil {
			return s.missing(err)
		}
		if n == 0 {
			return store.ErrStale
		}
		return s.recordRank(ctx, tx, t)
	})
}

// recordRank writes the board's rank of t's state, then the rest of t.
func (s *Store) recordRank(ctx context.Context, tx Conn, t store.Test) error {
	rank := store.Rank(store.Shown(t.Status.Status.State, true))
	if _, err := tx.Exec(ctx, s.q.rank, rank, t.Status.MonitorID, rank); err != nil {
		return err
	}
	return s.recordRest(ctx, tx, t)
}

// recordRest writes t's state change and notifications.
func (s *Store) recordRest(ctx context.Context, tx Conn, t store.Test) error {
	if c := t.Change; c != nil {
		if _, err := tx.Exec(ctx, s.q.change,
			c.MonitorID, ms(c.Time), string(c.From), string(c.To), c.Cause); err != nil {
			return err
		}
	}
	for _, n := range t.Notifications {
		if _, err := addNotification(ctx, tx, n); err != nil {
			return err
		}
	}
	return nil
}

// addNotification puts n in the outbox. The event id is unique: a
// notification recorded twice (a retried transaction, a replay after a
// crash, a re-post added by two nodes) is stored once; added says whether
// this one was.
func addNotification(ctx context.Context, tx Conn, n store.Notification) (added bool, err error) {
	status := n.Status
	if status == "" {
		status = store.NotifyPending
	}
	k, err := tx.Exec(ctx, `INSERT INTO alert_log(event_id, monitor_id, alert_id, kind, payload, status, created_ms) VALUES(?,?,?,?,?,?,?)
		ON CONFLICT (event_id) DO NOTHING`,
		n.EventID, n.MonitorID, n.AlertID, n.Kind, specJSON(n.Payload), status, ms(n.Created))
	return k > 0, err
}

func (s *Store) AddNotifications(ctx context.Context, ns []store.Notification) (int, error) {
	added := 0
	err := s.tx(ctx, func(tx Conn) error {
		added = 0
		for _, n := range ns {
			ok, err := addNotification(ctx, tx, n)
			if err != nil {
				return err
			}
			if ok {
				added++
			}
		}
		return nil
	})
	return added, err
}

func (s *Store) FiringNotifications(ctx context.Context, kind string, before time.Time) ([]store.Notification, error) {
	return List(ctx, s.r, ScanNotification, FiringQuery, kind, store.NotifySent, store.NotifyFailed, ms(before))
}

// FiringQuery is FiringNotifications' query (arguments: the alerts' kind,
// store.NotifySent, store.NotifyFailed, the time in ms). Its term
// st.state IN ('down', 'lost', 'warn') is, word for word, the condition
// of the partial index monitor_status_firing (migration 00017): the only
// reader of monitor_status by state.
var FiringQuery = `SELECT ` + prefixed("l.", NotificationCols) + ` FROM alert_log l
		JOIN alerts a ON a.id = l.alert_id AND a.kind = ?
		JOIN monitor_alerts ma ON ma.monitor_id = l.monitor_id AND ma.alert_id = l.alert_id
		JOIN monitor_status st ON st.monitor_id = l.monitor_id AND st.state IN ('down', 'lost', 'warn')
		WHERE l.id = (SELECT max(n.id) FROM alert_log n WHERE n.monitor_id = l.monitor_id AND n.alert_id = l.alert_id)
			AND l.kind IN ('alert', 'warning', 'repost') AND l.status IN (?, ?) AND l.done_ms < ?
		ORDER BY l.id`

// prefixed qualifies each of the comma-separated columns cols with p.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

func (s *Store) Status(ctx context.Context, monitorID int64) (*store.Status, error) {
	return one(scanStatus(s.r.QueryRow(ctx, `SELECT `+statusCols+` FROM monitor_status WHERE monitor_id=?`, monitorID)))
}

func (s *Store) Statuses(ctx context.Context, ids []int64) (map[int64]*store.Status, error) {
	out := map[int64]*store.Status{}
	if len(ids) == 0 {
		return out, nil
	}
	in, args := idList(ids)
	list, err := List(ctx, s.r, scanStatus, `SELECT `+statusCols+` FROM monitor_status WHERE monitor_id IN (`+in+`)`, args...)
	for i := range list {
		out[list[i].MonitorID] = &list[i]
	}
	return out, err
}

const statusCols = `monitor_id, status, last_result, last_ms, version`

// StatusSlots are the slots the statuses are stored at (phase.Slot of
// the interval the last test was stored with), by monitor: where a
// status is kept, which the contract checks (storetest).
func (s *Store) StatusSlots(ctx context.Context) (map[int64]int64, error) {
	type slotted struct{ id, slot int64 }
	list, err := List(ctx, s.r, func(r Row) (slotted, error) {
		var v slotted
		return v, r.Scan(&v.id, &v.slot)
	}, `SELECT monitor_id, slot FROM monitor_status`)
	out := make(map[int64]int64, len(list))
	for _, v := range list {
		out[v.id] = v.slot
	}
	return out, err
}

func scanStatus(row Row) (store.Status, error) {
	var st string
	var last sql.NullString
	var lastMS int64
	var out store.Status
	if err := row.Scan(&out.MonitorID, &st, &last, &lastMS, &out.Version); err != nil {
		return out, notFound(err)
	}
	out.LastTest = fromMS(lastMS)
	if err := json.Unmarshal([]byte(st), &out.Status); err != nil {
		return out, err
	}
	if last.Valid {
		out.LastResult = new(probe.Result)
		if err := json.Unmarshal([]byte(last.String), out.LastResult); err != nil {
			return out, err
		}
	}
	return out, nil
}

const resultCols = `r.t_ms, r.status, r.rtt_us, r.delivery_us, r.code, r.detail, r.node, r.location`

func scanResult(monitorID int64) func(Row) (store.Result, error) {
	return func(rows Row) (store.Result, error) {
		var (
			t, rtt       int64
			status       int
			delivery     sql.NullInt64
			code, detail sql.NullString
		)
		r := store.Result{MonitorID: monitorID}
		if err := rows.Scan(&t, &status, &rtt, &delivery, &code, &detail, &r.Node, &r.Location); err != nil {
			return r, err
		}
		r.Time, r.Status, r.RTT = fromMS(t), codeStatus(status), us(rtt)
		r.Delivery, r.Code = us(delivery.Int64), probe.Code(code.String)
		if detail.Valid {
			r.Detail = new(probe.Result)
			if err := json.Unmarshal([]byte(detail.String), r.Detail); err != nil {
				return r, err
			}
		}
		return r, nil
	}
}

func (s *Store) Results(ctx context.Context, monitorID int64, from, to time.Time, limit int) ([]store.Result, error) {
	if limit <= 0 {
		limit = 1000
	}
	return List(ctx, s.r, scanResult(monitorID), `SELECT `+resultCols+` FROM results r
		WHERE r.monitor_id=? AND r.t_ms>=? AND r.t_ms<? ORDER BY r.t_ms DESC, r.location LIMIT ?`, monitorID, ms(from), ms(to), limit)
}

func (s *Store) LatestResults(ctx context.Context, monitorID int64, since time.Time) ([]store.Result, error) {
	return List(ctx, s.r, scanResult(monitorID), `SELECT `+resultCols+` FROM results r
		JOIN (SELECT location, max(t_ms) AS t FROM results WHERE monitor_id=? AND t_ms>=? GROUP BY location) l ON l.location=r.location AND l.t=r.t_ms
		WHERE r.monitor_id=? ORDER BY r.location`, monitorID, ms(since), monitorID)
}

func scanChange(monitorID int64) func(Row) (store.StateChange, error) {
	return func(rows Row) (store.StateChange, error) {
		c := store.StateChange{MonitorID: monitorID}
		var t int64
		var from, to string
		if err := rows.Scan(&t, &from, &to, &c.Cause); err != nil {
			return c, err
		}
		c.Time, c.From, c.To = fromMS(t), state.State(from), state.State(to)
		return c, nil
	}
}

func (s *Store) StateChanges(ctx context.Context, monitorID int64, limit int) ([]store.StateChange, error) {
	if limit <= 0 {
		limit = 100
	}
	return List(ctx, s.r, scanChange(monitorID), `SELECT t_ms, from_state, to_state, cause FROM state_changes WHERE monitor_id=? ORDER BY t_ms DESC, id DESC LIMIT ?`, monitorID, limit)
}

func (s *Store) StateChangesBetween(ctx context.Context, monitorID int64, from, to time.Time) ([]store.StateChange, error) {
	return List(ctx, s.r, scanChange(monitorID), `SELECT t_ms, from_state, to_state, cause FROM (
			SELECT t_ms, id, from_state, to_state, cause FROM (
				SELECT t_ms, id, from_state, to_state, cause FROM state_changes WHERE monitor_id=? AND t_ms < ? ORDER BY t_ms DESC, id DESC LIMIT 1) b
			UNION ALL
			SELECT t_ms, id, from_state, to_state, cause FROM state_changes WHERE monitor_id=? AND t_ms >= ? AND t_ms < ?
		) c ORDER BY t_ms, id`, monitorID, ms(from), monitorID, ms(from), ms(to))
}

// NotificationCols are the columns ScanNotification scans, of alert_log.
const NotificationCols = `id, event_id, monitor_id, alert_id, kind, payload, status, attempts, last_error, created_ms, done_ms`

// ScanNotification scans the columns of NotificationCols.
func ScanNotification(rows Row) (store.Notification, error) {
	var n store.Notification
	var payload string
	var created int64
	var done *int64
	if err := rows.Scan(&n.ID, &n.EventID, &n.MonitorID, &n.AlertID, &n.Kind, &payload, &n.Status, &n.Attempts, &n.LastError, &created, &done); err != nil {
		return n, err
	}
	n.Payload, n.Created, n.Done = json.RawMessage(payload), fromMS(created), nullMS(done)
	return n, nil
}

func (s *Store) PendingNotifications(ctx context.Context, limit int) ([]store.Notification, error) {
	if limit <= 0 {
		limit = 100
	}
	// The oldest limit of each action: one whose receiver is away, its
	// notifications piling up, hides no other's.
	return List(ctx, s.r, ScanNotification, `SELECT `+NotificationCols+` FROM (
			SELECT `+NotificationCols+`, ROW_NUMBER() OVER (PARTITION BY alert_id ORDER BY id) AS n FROM alert_log WHERE status=?
		) p WHERE n <= ? ORDER BY id`, store.NotifyPending, limit)
}

func (s *Store) LaterSent(ctx context.Context, monitorID, alertID, afterID int64) (bool, error) {
	var n int
	err := s.r.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM alert_log WHERE monitor_id=? AND alert_id=? AND id>? AND status=? LIMIT 1) x`,
		monitorID, alertID, afterID, store.NotifySent).Scan(&n)
	return n > 0, err
}

func (s *Store) Notifications(ctx context.Context, monitorID int64, limit int) ([]store.Notification, error) {
	if limit <= 0 {
		limit = 100
	}
	return List(ctx, s.r, ScanNotification, `SELECT `+NotificationCols+` FROM alert_log WHERE monitor_id=? ORDER BY id DESC LIMIT ?`, monitorID, limit)
}

// MarkNotification writes an attempt's outcome; with node set, only while
// the claim is node's (claimed_by): a node whose claim was taken over
// during its attempt must not set back (to pending: sent a third time) or
// overwrite the outcome of the node that delivered it since. Node "" (one
// node, no claims; SQLite never claims) marks whatever the claim.
func (s *Store) MarkNotification(ctx context.Context, id int64, node, status string, attempts int, lastError string, at time.Time) error {
	var done any
	if status != store.NotifyPending {
		done = ms(at)
	}
	// A claim (PostgreSQL) stays until it expires: a failed attempt is
	// retried, by any node, no sooner than that.
	err := affected(s.w.Exec(ctx, `UPDATE alert_log SET status=?, attempts=?, last_error=?, done_ms=? WHERE id=? AND (? = '' OR claimed_by = ?)`,
		status, attempts, lastError, done, id, node, node))
	if node != "" && errors.Is(err, store.ErrNotFound) {
		return store.ErrNotClaimed
	}
	return err
}

// Prune deletes in parts of partMonitors monitors (inParts).
func (s *Store) Prune(ctx context.Context, before time.Time) (int64, error) {
	return s.deleteInParts(ctx, PartsOfResultsQuery, PruneQuery, ms(before))
}

// StatesQuery is States' query: the whole table in the order it is kept
// (SQLite: by slot, the rowid, not through monitor_id's index), the
// state column only (a status's last result, after it, not read).
const StatesQuery = `SELECT monitor_id, status FROM monitor_status`

func (s *Store) States(ctx context.Context) (map[int64]state.Status, error) {
	out := map[int64]state.Status{}
	rows, err := s.r.Query(ctx, StatesQuery)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var b []byte
	for rows.Next() {
		var id int64
		var st state.Status
		if err := rows.Scan(&id, &b); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("monitor %d: status: %w", id, err)
		}
		out[id] = st
	}
	return out, rows.Err()
}
