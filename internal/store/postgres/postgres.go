// Package postgres is the store for several nodes: PostgreSQL through
// jackc/pgx v5 (a connection pool), the same schema as SQLite in its own
// dialect (migrations/postgres, applied on open with goose), and the
// Cluster operations: node heartbeats, monitor leases taken with
// FOR UPDATE SKIP LOCKED, and notifications claimed the same way.
package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/migrations"
)

// Store is the PostgreSQL store.
type Store struct {
	p    conn // the pool; in a batch, its transaction (batch.go)
	pool *pgxpool.Pool
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Cluster = (*Store)(nil)
)

// IsURL reports whether a --db value names a PostgreSQL database.
func IsURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// Open connects to the database at url (postgres://…) and migrates it.
// Several nodes may open and migrate the same database at once: goose
// takes a lock for the migration.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") && cfg.MaxConns < 8 {
		cfg.MaxConns = 8 // pgx's default is the number of CPUs (at least 4)
	}
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{p: p, pool: p}
	if err := s.migrate(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("postgres %s: %w", redact(cfg), err)
	}
	return s, nil
}

// Redact returns a --db value fit to print: a PostgreSQL URL without its
// password; anything else as it is.
func Redact(db string) string {
	if !IsURL(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}

// redact names the database without its password, for errors.
func redact(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

func (s *Store) migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations.Postgres, "postgres")
	if err != nil {
		return err
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	locker, err := newLocker()
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker))
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

func ms(t time.Time) int64 { return t.UTC().UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nullMS(v *int64) time.Time {
	if v == nil {
		return time.Time{}
	}
	return fromMS(*v)
}

// nowMS is the database's clock in Unix milliseconds: leases and claims are
// compared in one clock, whatever the nodes' clocks say.
const nowMS = `(extract(epoch from clock_timestamp())*1000)::bigint`

// q turns ? placeholders into PostgreSQL's $1, $2 …, so that statements
// read like the SQLite backend's.
func q(sql string) string {
	var b strings.Builder
	n := 0
	for _, r := range sql {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// conflict turns a unique-constraint failure into store.ErrConflict.
func conflict(err error) error {
	if pgCode(err) == "23505" {
		return fmt.Errorf("%w: %v", store.ErrConflict, err)
	}
	return err
}

func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

func affected(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
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

func (s *Store) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return s.p.Exec(ctx, q(sql), args...)
}

func (s *Store) row(ctx context.Context, sql string, args ...any) pgx.Row {
	return s.p.QueryRow(ctx, q(sql), args...)
}

func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.p, fn)
}

func txExec(ctx context.Context, tx pgx.Tx, sql string, args ...any) (pgconn.CommandTag, error) {
	return tx.Exec(ctx, q(sql), args...)
}

// list runs a query and scans each row with scan.
func list[T any](ctx context.Context, s *Store, scan func(pgx.Rows) (*T, error), sql string, args ...any) ([]T, error) {
	rows, err := s.p.Query(ctx, q(sql), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}

func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// ---- devices

func (s *Store) PutDevice(ctx context.Context, d *store.Device) error {
	t := now()
	if d.ID == 0 {
		err := s.row(ctx, `INSERT INTO devices(name, address, network_target, created_ms, updated_ms) VALUES(?,?,?,?,?) RETURNING id`,
			d.Name, d.Address, d.NetworkTarget, ms(t), ms(t)).Scan(&d.ID)
		if err != nil {
			return conflict(err)
		}
		d.Created, d.Updated = t, t
		return nil
	}
	d.Updated = t
	return conflict(affected(s.exec(ctx, `UPDATE devices SET name=?, address=?, network_target=?, updated_ms=? WHERE id=?`, d.Name, d.Address, d.NetworkTarget, ms(t), d.ID)))
}

const deviceCols = `id, name, address, network_target, created_ms, updated_ms`

func scanDevice(sc pgx.Row) (*store.Device, error) {
	var d store.Device
	var c, u int64
	if err := sc.Scan(&d.ID, &d.Name, &d.Address, &d.NetworkTarget, &c, &u); err != nil {
		return nil, notFound(err)
	}
	d.Created, d.Updated = fromMS(c), fromMS(u)
	return &d, nil
}

func (s *Store) Device(ctx context.Context, id int64) (*store.Device, error) {
	return scanDevice(s.row(ctx, `SELECT `+deviceCols+` FROM devices WHERE id=?`, id))
}

func (s *Store) DeviceByName(ctx context.Context, name string) (*store.Device, error) {
	return scanDevice(s.row(ctx, `SELECT `+deviceCols+` FROM devices WHERE name=?`, name))
}

func (s *Store) Devices(ctx context.Context, p store.Page) ([]store.Device, int, error) {
	var total int
	if err := s.row(ctx, `SELECT count(*) FROM devices`).Scan(&total); err != nil {
		return nil, 0, err
	}
	out, err := list(ctx, s, func(r pgx.Rows) (*store.Device, error) { return scanDevice(r) },
		`SELECT `+deviceCols+` FROM devices ORDER BY name LIMIT ? OFFSET ?`, p.LimitOr(100), p.Offset)
	return out, total, err
}

func (s *Store) DeleteDevice(ctx context.Context, id int64) error {
	return affected(s.exec(ctx, `DELETE FROM devices WHERE id=?`, id))
}

// ---- monitors

func (s *Store) PutMonitor(ctx context.Context, m *store.Monitor) error {
	t := now()
	if m.ID == 0 {
		err := s.row(ctx, `INSERT INTO monitors(device_id, name, type, enabled, spec, secrets, network_target, created_ms, updated_ms)
			VALUES(?,?,?,?,?,?,?,?,?) RETURNING id`, m.DeviceID, m.Name, m.Type, m.Enabled, specJSON(m.Spec), secretsJSON(m.Secrets), m.NetworkTarget, ms(t), ms(t)).Scan(&m.ID)
		if err != nil {
			if pgCode(err) == "23503" {
				return fmt.Errorf("device %d: %w", m.DeviceID, store.ErrNotFound)
			}
			return conflict(err)
		}
		m.Created, m.Updated = t, t
		return nil
	}
	m.Updated = t
	return conflict(affected(s.exec(ctx, `UPDATE monitors SET device_id=?, name=?, type=?, enabled=?, spec=?, secrets=?, network_target=?, updated_ms=? WHERE id=?`,
		m.DeviceID, m.Name, m.Type, m.Enabled, specJSON(m.Spec), secretsJSON(m.Secrets), m.NetworkTarget, ms(t), m.ID)))
}

const monitorCols = `m.id, m.device_id, m.name, m.type, m.enabled, m.spec, m.secrets, m.network_target, m.created_ms, m.updated_ms`

func scanMonitor(sc pgx.Row) (*store.Monitor, error) {
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
	return scanMonitor(s.row(ctx, `SELECT `+monitorCols+` FROM monitors m WHERE m.id=?`, id))
}

func (s *Store) MonitorByName(ctx context.Context, deviceID int64, name string) (*store.Monitor, error) {
	return scanMonitor(s.row(ctx, `SELECT `+monitorCols+` FROM monitors m WHERE m.device_id=? AND m.name=?`, deviceID, name))
}

func (s *Store) Monitors(ctx context.Context, f store.MonitorFilter) ([]store.Monitor, int, error) {
	where, args := []string{"true"}, []any{}
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
		// ILIKE: case-insensitive; % and _ in the search are taken
		// literally.
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(f.Search)
		where, args = append(where, `m.name ILIKE ? ESCAPE '\'`), append(args, "%"+esc+"%")
	}
	from := ` FROM monitors m WHERE `
	if f.State != "" {
		// Joined only when needed, as in the SQLite store.
		from = ` FROM monitors m LEFT JOIN monitor_status st ON st.monitor_id=m.id WHERE `
	}
	from += strings.Join(where, " AND ")
	var total int
	if err := s.row(ctx, `SELECT count(*)`+from, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	out, err := list(ctx, s, func(r pgx.Rows) (*store.Monitor, error) { return scanMonitor(r) },
		`SELECT `+monitorCols+from+` ORDER BY m.device_id, m.name LIMIT ? OFFSET ?`, append(args, f.LimitOr(100), f.Offset)...)
	return out, total, err
}

func (s *Store) DeleteMonitor(ctx context.Context, id int64) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if err := affected(txExec(ctx, tx, `DELETE FROM monitors WHERE id=?`, id)); err != nil {
			return err
		}
		// Results and history go with the monitor.
		for _, sql := range []string{`DELETE FROM results WHERE monitor_id=?`, `DELETE FROM state_changes WHERE monitor_id=?`} {
			if _, err := txExec(ctx, tx, sql, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// ---- alerts

func (s *Store) PutAlert(ctx context.Context, a *store.Alert) error {
	t := now()
	if a.ID == 0 {
		err := s.row(ctx, `INSERT INTO alerts(name, kind, spec, secrets, network_target, created_ms, updated_ms) VALUES(?,?,?,?,?,?,?) RETURNING id`,
			a.Name, a.Kind, specJSON(a.Spec), secretsJSON(a.Secrets), a.NetworkTarget, ms(t), ms(t)).Scan(&a.ID)
		if err != nil {
			return conflict(err)
		}
		a.Created, a.Updated = t, t
		return nil
	}
	a.Updated = t
	return conflict(affected(s.exec(ctx, `UPDATE alerts SET name=?, kind=?, spec=?, secrets=?, network_target=?, updated_ms=? WHERE id=?`,
		a.Name, a.Kind, specJSON(a.Spec), secretsJSON(a.Secrets), a.NetworkTarget, ms(t), a.ID)))
}

const alertCols = `id, name, kind, spec, secrets, network_target, created_ms, updated_ms`

func scanAlert(sc pgx.Row) (*store.Alert, error) {
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
	return scanAlert(s.row(ctx, `SELECT `+alertCols+` FROM alerts WHERE id=?`, id))
}

func (s *Store) AlertByName(ctx context.Context, name string) (*store.Alert, error) {
	return scanAlert(s.row(ctx, `SELECT `+alertCols+` FROM alerts WHERE name=?`, name))
}

func (s *Store) Alerts(ctx context.Context, p store.Page) ([]store.Alert, int, error) {
	var total int
	if err := s.row(ctx, `SELECT count(*) FROM alerts`).Scan(&total); err != nil {
		return nil, 0, err
	}
	out, err := list(ctx, s, func(r pgx.Rows) (*store.Alert, error) { return scanAlert(r) },
		`SELECT `+alertCols+` FROM alerts ORDER BY name LIMIT ? OFFSET ?`, p.LimitOr(100), p.Offset)
	return out, total, err
}

func (s *Store) DeleteAlert(ctx context.Context, id int64) error {
	return affected(s.exec(ctx, `DELETE FROM alerts WHERE id=?`, id))
}

func (s *Store) SetMonitorAlerts(ctx context.Context, monitorID int64, alertIDs []int64) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := txExec(ctx, tx, `DELETE FROM monitor_alerts WHERE monitor_id=?`, monitorID); err != nil {
			return err
		}
		for _, a := range alertIDs {
			if _, err := txExec(ctx, tx, `INSERT INTO monitor_alerts(monitor_id, alert_id) VALUES(?,?) ON CONFLICT DO NOTHING`, monitorID, a); err != nil {
				if pgCode(err) == "23503" {
					return store.ErrNotFound
				}
				return err
			}
		}
		// The assignment is part of the monitor: a daemon watching for
		// changes sees it by the monitor's update time.
		_, err := txExec(ctx, tx, `UPDATE monitors SET updated_ms=greatest(updated_ms+1, ?) WHERE id=?`, ms(time.Now()), monitorID)
		return err
	})
}

func (s *Store) MonitorAlerts(ctx context.Context, monitorID int64) ([]int64, error) {
	return list(ctx, s, func(r pgx.Rows) (*int64, error) {
		var id int64
		return &id, r.Scan(&id)
	}, `SELECT alert_id FROM monitor_alerts WHERE monitor_id=? ORDER BY alert_id`, monitorID)
}

// ---- tokens

func (s *Store) PutToken(ctx context.Context, t *store.Token) error {
	n := now()
	if err := s.row(ctx, `INSERT INTO tokens(name, hash, created_ms) VALUES(?,?,?) RETURNING id`, t.Name, t.Hash, ms(n)).Scan(&t.ID); err != nil {
		return conflict(err)
	}
	t.Created = n
	return nil
}

func scanToken(sc pgx.Row) (*store.Token, error) {
	var t store.Token
	var c int64
	var u *int64
	if err := sc.Scan(&t.ID, &t.Name, &t.Hash, &c, &u); err != nil {
		return nil, notFound(err)
	}
	t.Created, t.Used = fromMS(c), nullMS(u)
	return &t, nil
}

func (s *Store) TokenByHash(ctx context.Context, hash string) (*store.Token, error) {
	return scanToken(s.row(ctx, `SELECT id, name, hash, created_ms, used_ms FROM tokens WHERE hash=?`, hash))
}

func (s *Store) Tokens(ctx context.Context) ([]store.Token, error) {
	return list(ctx, s, func(r pgx.Rows) (*store.Token, error) { return scanToken(r) },
		`SELECT id, name, hash, created_ms, used_ms FROM tokens ORDER BY name`)
}

func (s *Store) DeleteToken(ctx context.Context, id int64) error {
	return affected(s.exec(ctx, `DELETE FROM tokens WHERE id=?`, id))
}

func (s *Store) TouchToken(ctx context.Context, id int64, at time.Time) error {
	return affected(s.exec(ctx, `UPDATE tokens SET used_ms=? WHERE id=?`, ms(at), id))
}
