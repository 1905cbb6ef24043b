// Package sqlite is the embedded store: SQLite through modernc.org/sqlite
// (no cgo), WAL, a busy timeout, one writer connection and a pool of
// readers, migrations applied on open.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/migrations"
)

// Store is the SQLite store.
type Store struct {
	w conn // the one writer; in a batch, its transaction (batch.go)
	r conn // readers; in a batch, the same transaction

	wdb, rdb *sql.DB
	batch    *sql.Tx // set in a batch's store only

	queue      chan *pending // tests' results for the group writer (group.go)
	closing    chan struct{}
	writerDone chan struct{}
	closeOnce  sync.Once
	groups     groupStats
	st         stmts // the writer's prepared statements (group.go)
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path and migrates it.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	dsn := "file:" + path + "?" + q.Encode()
	w, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(4)
	s := &Store{w: w, r: r, wdb: w, rdb: r, queue: make(chan *pending), closing: make(chan struct{}), writerDone: make(chan struct{})}
	go s.writer()
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations.SQLite, "sqlite")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.wdb, sub)
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// Close closes the database, once the results already taken by the group
// writer are committed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.closing) })
	<-s.writerDone
	s.closeStmts()
	return errors.Join(s.rdb.Close(), s.wdb.Close())
}

func ms(t time.Time) int64 { return t.UTC().UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nullMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}

// conflict turns a unique-constraint failure into store.ErrConflict.
func conflict(err error) error {
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return fmt.Errorf("%w: %v", store.ErrConflict, err)
	}
	return err
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func secretsJSON(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func specJSON(b json.RawMessage) string {
	if len(b) == 0 {
		return "{}"
	}
	return string(b)
}

// ---- devices

func (s *Store) PutDevice(ctx context.Context, d *store.Device) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	if d.ID == 0 {
		res, err := s.w.ExecContext(ctx, `INSERT INTO devices(name, address, network_target, created_ms, updated_ms) VALUES(?,?,?,?,?)`,
			d.Name, d.Address, d.NetworkTarget, ms(now), ms(now))
		if err != nil {
			return conflict(err)
		}
		d.ID, _ = res.LastInsertId()
		d.Created, d.Updated = now, now
		return nil
	}
	d.Updated = now
	return conflict(affected(s.w.ExecContext(ctx, `UPDATE devices SET name=?, address=?, network_target=?, updated_ms=? WHERE id=?`,
		d.Name, d.Address, d.NetworkTarget, ms(now), d.ID)))
}

const deviceCols = `id, name, address, network_target, created_ms, updated_ms`

func scanDevice(sc interface{ Scan(...any) error }) (*store.Device, error) {
	var d store.Device
	var c, u int64
	if err := sc.Scan(&d.ID, &d.Name, &d.Address, &d.NetworkTarget, &c, &u); err != nil {
		return nil, notFound(err)
	}
	d.Created, d.Updated = fromMS(c), fromMS(u)
	return &d, nil
}

func (s *Store) Device(ctx context.Context, id int64) (*store.Device, error) {
	return scanDevice(s.r.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM devices WHERE id=?`, id))
}

func (s *Store) DeviceByName(ctx context.Context, name string) (*store.Device, error) {
	return scanDevice(s.r.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM devices WHERE name=?`, name))
}

func (s *Store) Devices(ctx context.Context, p store.Page) ([]store.Device, int, error) {
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM devices`).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+deviceCols+` FROM devices ORDER BY name LIMIT ? OFFSET ?`, p.LimitOr(100), p.Offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []store.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *d)
	}
	return out, total, rows.Err()
}

func (s *Store) DeleteDevice(ctx context.Context, id int64) error {
	return affected(s.w.ExecContext(ctx, `DELETE FROM devices WHERE id=?`, id))
}

// ---- monitors

func (s *Store) PutMonitor(ctx context.Context, m *store.Monitor) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	if m.ID == 0 {
		res, err := s.w.ExecContext(ctx, `INSERT INTO monitors(device_id, name, type, enabled, spec, secrets, network_target, created_ms, updated_ms)
			VALUES(?,?,?,?,?,?,?,?,?)`, m.DeviceID, m.Name, m.Type, m.Enabled, specJSON(m.Spec), secretsJSON(m.Secrets), m.NetworkTarget, ms(now), ms(now))
		if err != nil {
			return conflict(err)
		}
		m.ID, _ = res.LastInsertId()
		m.Created, m.Updated = now, now
		return nil
	}
	m.Updated = now
	return conflict(affected(s.w.ExecContext(ctx, `UPDATE monitors SET device_id=?, name=?, type=?, enabled=?, spec=?, secrets=?, network_target=?, updated_ms=? WHERE id=?`,
		m.DeviceID, m.Name, m.Type, m.Enabled, specJSON(m.Spec), secretsJSON(m.Secrets), m.NetworkTarget, ms(now), m.ID)))
}

const monitorCols = `m.id, m.device_id, m.name, m.type, m.enabled, m.spec, m.secrets, m.network_target, m.created_ms, m.updated_ms`

func scanMonitor(sc interface{ Scan(...any) error }) (*store.Monitor, error) {
	var m store.Monitor
	var spec, secrets string
	var c, u int64
	if err := sc.Scan(&m.ID, &m.DeviceID, &m.Name, &m.Type, &m.Enabled, &spec, &secrets, &m.NetworkTarget, &c, &u); err != nil {
		return nil, notFound(err)
	}
	m.Spec = json.RawMessage(spec)
	if err := json.Unmarshal([]byte(secrets), &m.Secrets); err != nil {
		return nil, fmt.Errorf("monitor %d secrets: %w", m.ID, err)
	}
	m.Created, m.Updated = fromMS(c), fromMS(u)
	return &m, nil
}

func (s *Store) Monitor(ctx context.Context, id int64) (*store.Monitor, error) {
	return scanMonitor(s.r.QueryRowContext(ctx, `SELECT `+monitorCols+` FROM monitors m WHERE m.id=?`, id))
}

func (s *Store) MonitorByName(ctx context.Context, deviceID int64, name string) (*store.Monitor, error) {
	return scanMonitor(s.r.QueryRowContext(ctx, `SELECT `+monitorCols+` FROM monitors m WHERE m.device_id=? AND m.name=?`, deviceID, name))
}

func (s *Store) Monitors(ctx context.Context, f store.MonitorFilter) ([]store.Monitor, int, error) {
	where, args := []string{"1=1"}, []any{}
	if f.DeviceID != 0 {
		where, args = append(where, "m.device_id=?"), append(args, f.DeviceID)
	}
	if f.Type != "" {
		where, args = append(where, "m.type=?"), append(args, f.Type)
	}
	if f.State != "" {
		if f.State == state.Pending {
			where = append(where, "(st.state IS NULL OR st.state=?)")
		} else {
			where = append(where, "st.state=?")
		}
		args = append(args, string(f.State))
	}
	if f.Search != "" {
		// LIKE is case-insensitive for ASCII in SQLite; % and _ in the
		// search are taken literally.
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(f.Search)
		where, args = append(where, `m.name LIKE ? ESCAPE '\'`), append(args, "%"+esc+"%")
	}
	from := ` FROM monitors m WHERE `
	if f.State != "" {
		// Joined only when needed: counting through the join costs
		// several times as much (a board of 20,000 monitors).
		from = ` FROM monitors m LEFT JOIN monitor_status st ON st.monitor_id=m.id WHERE `
	}
	from += strings.Join(where, " AND ")
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*)`+from, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+monitorCols+from+` ORDER BY m.device_id, m.name LIMIT ? OFFSET ?`,
		append(args, f.LimitOr(100), f.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []store.Monitor
	for rows.Next() {
		m, err := scanMonitor(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *m)
	}
	return out, total, rows.Err()
}

func (s *Store) DeleteMonitor(ctx context.Context, id int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := affected(tx.ExecContext(ctx, `DELETE FROM monitors WHERE id=?`, id)); err != nil {
			return err
		}
		// Results and history go with the monitor.
		for _, q := range []string{`DELETE FROM results WHERE monitor_id=?`, `DELETE FROM state_changes WHERE monitor_id=?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.batch != nil {
		return s.savepoint(ctx, fn)
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// ---- alerts

func (s *Store) PutAlert(ctx context.Context, a *store.Alert) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	if a.ID == 0 {
		res, err := s.w.ExecContext(ctx, `INSERT INTO alerts(name, kind, spec, secrets, network_target, created_ms, updated_ms) VALUES(?,?,?,?,?,?,?)`,
			a.Name, a.Kind, specJSON(a.Spec), secretsJSON(a.Secrets), a.NetworkTarget, ms(now), ms(now))
		if err != nil {
			return conflict(err)
		}
		a.ID, _ = res.LastInsertId()
		a.Created, a.Updated = now, now
		return nil
	}
	a.Updated = now
	return conflict(affected(s.w.ExecContext(ctx, `UPDATE alerts SET name=?, kind=?, spec=?, secrets=?, network_target=?, updated_ms=? WHERE id=?`,
		a.Name, a.Kind, specJSON(a.Spec), secretsJSON(a.Secrets), a.NetworkTarget, ms(now), a.ID)))
}

const alertCols = `id, name, kind, spec, secrets, network_target, created_ms, updated_ms`

func scanAlert(sc interface{ Scan(...any) error }) (*store.Alert, error) {
	var a store.Alert
	var spec, secrets string
	var c, u int64
	if err := sc.Scan(&a.ID, &a.Name, &a.Kind, &spec, &secrets, &a.NetworkTarget, &c, &u); err != nil {
		return nil, notFound(err)
	}
	a.Spec = json.RawMessage(spec)
	if err := json.Unmarshal([]byte(secrets), &a.Secrets); err != nil {
		return nil, err
	}
	a.Created, a.Updated = fromMS(c), fromMS(u)
	return &a, nil
}

func (s *Store) Alert(ctx context.Context, id int64) (*store.Alert, error) {
	return scanAlert(s.r.QueryRowContext(ctx, `SELECT `+alertCols+` FROM alerts WHERE id=?`, id))
}

func (s *Store) AlertByName(ctx context.Context, name string) (*store.Alert, error) {
	return scanAlert(s.r.QueryRowContext(ctx, `SELECT `+alertCols+` FROM alerts WHERE name=?`, name))
}

func (s *Store) Alerts(ctx context.Context, p store.Page) ([]store.Alert, int, error) {
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM alerts`).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+alertCols+` FROM alerts ORDER BY name LIMIT ? OFFSET ?`, p.LimitOr(100), p.Offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []store.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *a)
	}
	return out, total, rows.Err()
}

func (s *Store) DeleteAlert(ctx context.Context, id int64) error {
	return affected(s.w.ExecContext(ctx, `DELETE FROM alerts WHERE id=?`, id))
}

func (s *Store) SetMonitorAlerts(ctx context.Context, monitorID int64, alertIDs []int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM monitor_alerts WHERE monitor_id=?`, monitorID); err != nil {
			return err
		}
		for _, a := range alertIDs {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO monitor_alerts(monitor_id, alert_id) VALUES(?,?)`, monitorID, a); err != nil {
				if strings.Contains(err.Error(), "FOREIGN KEY") {
					return store.ErrNotFound
				}
				return err
			}
		}
		// The assignment is part of the monitor: a daemon watching for
		// changes sees it by the monitor's update time.
		_, err := tx.ExecContext(ctx, `UPDATE monitors SET updated_ms=max(updated_ms+1, ?) WHERE id=?`, ms(time.Now()), monitorID)
		return err
	})
}

func (s *Store) MonitorAlerts(ctx context.Context, monitorID int64) ([]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT alert_id FROM monitor_alerts WHERE monitor_id=? ORDER BY alert_id`, monitorID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// ---- tests, results, history, notifications

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

func (s *Store) RecordTest(ctx context.Context, t store.Test) error {
	st, err := json.Marshal(t.Status.Status)
	if err != nil {
		return err
	}
	var last []byte
	if t.Status.LastResult != nil {
		if last, err = json.Marshal(t.Status.LastResult); err != nil {
			return err
		}
	}
	r := t.Result
	var detail any
	if r.Detail != nil && r.Status != probe.StatusUp {
		b, err := json.Marshal(r.Detail)
		if err != nil {
			return err
		}
		detail = string(b)
	}
	var code, delivery any
	if r.Code != "" {
		code = string(r.Code)
	}
	if r.Delivery > 0 {
		delivery = r.Delivery.Microseconds()
	}
	return s.grouped(ctx, func(tx *sql.Tx) error {
		// A SQLite database has one node, which holds every lease: Fence
		// needs no check.
		if t.CheckVersion {
			var v int64
			err := tx.StmtContext(ctx, s.st.version).QueryRowContext(ctx, t.Status.MonitorID).Scan(&v)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if v != t.Status.Version {
				return store.ErrStale
			}
		}
		if r.MonitorID != 0 {
			if _, err := tx.StmtContext(ctx, s.st.result).ExecContext(ctx, r.MonitorID, ms(r.Time), statusCode(r.Status), r.RTT.Microseconds(), delivery, code, detail, r.Node, r.Location); err != nil {
				return err
			}
		}
		if _, err := tx.StmtContext(ctx, s.st.status).ExecContext(ctx, t.Status.MonitorID, string(t.Status.Status.State), string(st), nullString(last), ms(t.Status.LastTest)); err != nil {
			return err
		}
		if c := t.Change; c != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO state_changes(monitor_id, t_ms, from_state, to_state, cause) VALUES(?,?,?,?,?)`,
				c.MonitorID, ms(c.Time), string(c.From), string(c.To), c.Cause); err != nil {
				return err
			}
		}
		for _, n := range t.Notifications {
			status := n.Status
			if status == "" {
				status = store.NotifyPending
			}
			// The event id is unique: a notification recorded twice (a
			// retried transaction, a replay after a crash) is stored once.
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO alert_log(event_id, monitor_id, alert_id, kind, payload, status, created_ms) VALUES(?,?,?,?,?,?,?)`,
				n.EventID, n.MonitorID, n.AlertID, n.Kind, specJSON(n.Payload), status, ms(n.Created)); err != nil {
				return err
			}
		}
		return nil
	})
}

func nullString(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

func (s *Store) Status(ctx context.Context, monitorID int64) (*store.Status, error) {
	var st, last sql.NullString
	var lastMS, version int64
	err := s.r.QueryRowContext(ctx, `SELECT status, last_result, last_ms, version FROM monitor_status WHERE monitor_id=?`, monitorID).Scan(&st, &last, &lastMS, &version)
	if err != nil {
		return nil, notFound(err)
	}
	out := &store.Status{MonitorID: monitorID, LastTest: fromMS(lastMS), Version: version}
	if err := json.Unmarshal([]byte(st.String), &out.Status); err != nil {
		return nil, err
	}
	if last.Valid {
		out.LastResult = new(probe.Result)
		if err := json.Unmarshal([]byte(last.String), out.LastResult); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) Results(ctx context.Context, monitorID int64, from, to time.Time, limit int) ([]store.Result, error) {
	if limit <= 0 {
		limit = 1000
	}
	return s.results(ctx, monitorID, `SELECT t_ms, status, rtt_us, delivery_us, code, detail, node, location FROM results
		WHERE monitor_id=? AND t_ms>=? AND t_ms<? ORDER BY t_ms DESC LIMIT ?`, monitorID, ms(from), ms(to), limit)
}

func (s *Store) LatestResults(ctx context.Context, monitorID int64, since time.Time) ([]store.Result, error) {
	return s.results(ctx, monitorID, `SELECT r.t_ms, r.status, r.rtt_us, r.delivery_us, r.code, r.detail, r.node, r.location FROM results r
		JOIN (SELECT location, max(t_ms) AS t FROM results WHERE monitor_id=? AND t_ms>=? GROUP BY location) l ON l.location=r.location AND l.t=r.t_ms
		WHERE r.monitor_id=? ORDER BY r.location`, monitorID, ms(since), monitorID)
}

func (s *Store) results(ctx context.Context, monitorID int64, q string, args ...any) ([]store.Result, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Result
	for rows.Next() {
		var (
			t           int64
			status      int
			rtt         int64
			delivery    sql.NullInt64
			code, detai sql.NullString
		)
		r := store.Result{MonitorID: monitorID}
		if err := rows.Scan(&t, &status, &rtt, &delivery, &code, &detai, &r.Node, &r.Location); err != nil {
			return nil, err
		}
		r.Time, r.Status, r.RTT = fromMS(t), codeStatus(status), time.Duration(rtt)*time.Microsecond
		r.Delivery, r.Code = time.Duration(delivery.Int64)*time.Microsecond, probe.Code(code.String)
		if detai.Valid {
			r.Detail = new(probe.Result)
			if err := json.Unmarshal([]byte(detai.String), r.Detail); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Store) StateChanges(ctx context.Context, monitorID int64, limit int) ([]store.StateChange, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, `SELECT t_ms, from_state, to_state, cause FROM state_changes WHERE monitor_id=? ORDER BY t_ms DESC, id DESC LIMIT ?`, monitorID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.StateChange
	for rows.Next() {
		c := store.StateChange{MonitorID: monitorID}
		var t int64
		var from, to string
		if err := rows.Scan(&t, &from, &to, &c.Cause); err != nil {
			return nil, err
		}
		c.Time, c.From, c.To = fromMS(t), state.State(from), state.State(to)
		out = append(out, c)
	}
	return out, rows.Err()
}

const notificationCols = `id, event_id, monitor_id, alert_id, kind, payload, status, attempts, last_error, created_ms, done_ms`

func (s *Store) notifications(ctx context.Context, q string, args ...any) ([]store.Notification, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+notificationCols+` FROM alert_log `+q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Notification
	for rows.Next() {
		var n store.Notification
		var payload string
		var created int64
		var done sql.NullInt64
		if err := rows.Scan(&n.ID, &n.EventID, &n.MonitorID, &n.AlertID, &n.Kind, &payload, &n.Status, &n.Attempts, &n.LastError, &created, &done); err != nil {
			return nil, err
		}
		n.Payload, n.Created, n.Done = json.RawMessage(payload), fromMS(created), nullMS(done)
		out = append(out, n)
	}
	return out, rows.Err()
}

func (s *Store) PendingNotifications(ctx context.Context, limit int) ([]store.Notification, error) {
	if limit <= 0 {
		limit = 100
	}
	return s.notifications(ctx, `WHERE status=? ORDER BY id LIMIT ?`, store.NotifyPending, limit)
}

func (s *Store) Notifications(ctx context.Context, monitorID int64, limit int) ([]store.Notification, error) {
	if limit <= 0 {
		limit = 100
	}
	return s.notifications(ctx, `WHERE monitor_id=? ORDER BY id DESC LIMIT ?`, monitorID, limit)
}

func (s *Store) MarkNotification(ctx context.Context, id int64, status string, attempts int, lastError string, at time.Time) error {
	var done any
	if status != store.NotifyPending {
		done = ms(at)
	}
	return affected(s.w.ExecContext(ctx, `UPDATE alert_log SET status=?, attempts=?, last_error=?, done_ms=? WHERE id=?`,
		status, attempts, lastError, done, id))
}

func (s *Store) Prune(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM results WHERE t_ms < ?`, ms(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ---- tokens

func (s *Store) PutToken(ctx context.Context, t *store.Token) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	res, err := s.w.ExecContext(ctx, `INSERT INTO tokens(name, hash, created_ms) VALUES(?,?,?)`, t.Name, t.Hash, ms(now))
	if err != nil {
		return conflict(err)
	}
	t.ID, _ = res.LastInsertId()
	t.Created = now
	return nil
}

func scanToken(sc interface{ Scan(...any) error }) (*store.Token, error) {
	var t store.Token
	var c int64
	var u sql.NullInt64
	if err := sc.Scan(&t.ID, &t.Name, &t.Hash, &c, &u); err != nil {
		return nil, notFound(err)
	}
	t.Created, t.Used = fromMS(c), nullMS(u)
	return &t, nil
}

func (s *Store) TokenByHash(ctx context.Context, hash string) (*store.Token, error) {
	return scanToken(s.r.QueryRowContext(ctx, `SELECT id, name, hash, created_ms, used_ms FROM tokens WHERE hash=?`, hash))
}

func (s *Store) Tokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, hash, created_ms, used_ms FROM tokens ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

func (s *Store) DeleteToken(ctx context.Context, id int64) error {
	return affected(s.w.ExecContext(ctx, `DELETE FROM tokens WHERE id=?`, id))
}

func (s *Store) TouchToken(ctx context.Context, id int64, at time.Time) error {
	return affected(s.w.ExecContext(ctx, `UPDATE tokens SET used_ms=? WHERE id=?`, ms(at), id))
}
