package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
)

// rankOf is the SQL of store.Rank of a state column, for a monitor that
// is enabled.
func rankOf(col string) string {
	var b strings.Builder
	b.WriteString(`(CASE ` + col)
	for i, st := range store.WorstFirstStates {
		fmt.Fprintf(&b, ` WHEN '%s' THEN %d`, st, i)
	}
	fmt.Fprintf(&b, ` ELSE %d END)`, store.Rank(state.Pending))
	return b.String()
}

// monitorOrder is the ORDER BY of an order (DeviceWorstFirst joins the
// devices d). The shown state's rank is kept on the monitor (shown_rank,
// indexed with the name), so that a page worst first is read in order.
func monitorOrder(o store.Order) string {
	switch o {
	case store.WorstFirst:
		return `m.shown_rank, m.name, m.id`
	case store.DeviceWorstFirst:
		return `d.name, m.device_id, m.shown_rank, m.name, m.id`
	}
	return `m.device_id, m.name`
}

// monitorWhere is the WHERE of a filter, state aside.
func (s *Store) monitorWhere(f store.MonitorFilter) (string, []any) {
	where, args := []string{"1=1"}, []any{}
	if f.DeviceID != 0 {
		where, args = append(where, "m.device_id=?"), append(args, f.DeviceID)
	}
	if f.Type != "" {
		where, args = append(where, "m.type=?"), append(args, f.Type)
	}
	if f.Search != "" {
		// Case-insensitive (SQLite's LIKE for ASCII, PostgreSQL's ILIKE);
		// % and _ in the search are taken literally.
		esc := likeEscape.Replace(f.Search)
		where, args = append(where, `m.name `+s.d.ILike+` ? ESCAPE '\'`), append(args, "%"+esc+"%")
	}
	if df := f.Domain; df != nil {
		w, a := s.domainWhere(df)
		where, args = append(where, w), append(args, a...)
	}
	return strings.Join(where, " AND "), args
}

// allMonitors tells a filter that selects every monitor (its state and
// page aside): its counts are board_counts', kept by triggers (migration
// 00015), not a count of them all.
func allMonitors(f store.MonitorFilter) bool {
	return f.DeviceID == 0 && f.Type == "" && f.Search == "" && f.Domain == nil
}

// likeEscape makes % and _ literal in a LIKE with ESCAPE '\'.
var likeEscape = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// domainWhere is the WHERE of a domain filter: the spec's domain, or,
// without one, the device's address.
func (s *Store) domainWhere(df *store.DomainFilter) (string, []any) {
	own, ownArgs := strList(df.OwnTypes)
	host, hostArgs := strList(df.HostTypes)
	addr := `(SELECT lower(dv.address) FROM devices dv WHERE dv.id=m.device_id)`
	spec := s.d.JSONText("m.spec", "domain")
	byHost := addr + `=?`
	args := append(append(append(append([]any{}, ownArgs...), hostArgs...), df.Domain), ownArgs...)
	args = append(append(args, df.Domain), hostArgs...)
	args = append(args, df.Domain)
	if df.Registered {
		esc := likeEscape.Replace(df.Domain)
		byHost = `(` + byHost + ` OR ` + addr + ` LIKE ? ESCAPE '\')`
		args = append(args, "%."+esc)
	}
	return `m.type IN (` + own + `,` + host + `) AND (lower(` + spec + `)=?
		OR ` + spec + `='' AND (m.type IN (` + own + `) AND ` + addr + `=? OR m.type IN (` + host + `) AND ` + byHost + `))`, args
}

// strList is idList of strings, NULL for none.
func strList(ss []string) (string, []any) {
	if len(ss) == 0 {
		return "NULL", nil
	}
	return idList(ss)
}

func (s *Store) StateCounts(ctx context.Context, f store.MonitorFilter) (map[state.State]int, error) {
	where, args := s.monitorWhere(f)
	out := map[state.State]int{}
	q := `SELECT m.shown_rank, count(*) FROM monitors m WHERE ` + where + ` GROUP BY m.shown_rank`
	if allMonitors(f) {
		q, args = `SELECT shown_rank, n FROM board_counts WHERE n<>0`, nil
	}
	rows, err := s.r.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var rank, n int
		if err := rows.Scan(&rank, &n); err != nil {
			return nil, err
		}
		out[store.WorstFirstStates[min(max(rank, 0), len(store.WorstFirstStates)-1)]] += n
	}
	return out, rows.Err()
}

// RecentResults reads each monitor's last results from its end of the
// results' key: one short statement a monitor, which SQLite prepares far
// faster than one UNION of them all (a page's 50: 1.3 against 2.3 ms).
func (s *Store) RecentResults(ctx context.Context, ids []int64, limit int) (map[int64][]store.Result, error) {
	out := map[int64][]store.Result{}
	for _, id := range ids {
		rs, err := recentResults(ctx, s.r, id, limit)
		if err != nil {
			return nil, err
		}
		if len(rs) > 0 {
			out[id] = rs
		}
	}
	return out, nil
}

func recentResults(ctx context.Context, c Conn, id int64, limit int) ([]store.Result, error) {
	return List(ctx, c, func(rows Row) (store.Result, error) {
		var t, rtt int64
		var status int
		var code sql.NullString
		err := rows.Scan(&t, &status, &rtt, &code)
		return store.Result{MonitorID: id, Time: fromMS(t), Status: codeStatus(status), RTT: us(rtt), Code: probe.Code(code.String)}, err
	}, `SELECT t_ms, status, rtt_us, code FROM results WHERE monitor_id=? ORDER BY t_ms DESC LIMIT ?`, id, max(limit, 1))
}

// idList is the placeholders of ids (or strings), and them as arguments.
func idList[T int64 | string](ids []T) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return strings.TrimSuffix(strings.Repeat("?,", len(ids)), ","), args
}

// scanCounts scans monitor_id, tests, down, and the last roll-up's start
// (NULL for raw results).
func scanCounts(ctx context.Context, c Conn, query string, args ...any) (map[int64]store.Counts, error) {
	out := map[int64]store.Counts{}
	rows, err := c.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n store.Counts
		var last sql.NullInt64
		if err := rows.Scan(&id, &n.Tests, &n.Down, &last); err != nil {
			return nil, err
		}
		if last.Valid {
			n.Last = fromMS(last.Int64)
		}
		out[id] = n
	}
	return out, rows.Err()
}

func (s *Store) RollupCounts(ctx context.Context, ids []int64, ws ...store.RollupWindow) ([]map[int64]store.Counts, error) {
	out := make([]map[int64]store.Counts, len(ws))
	for i := range out {
		out[i] = map[int64]store.Counts{}
	}
	if len(ids) == 0 || len(ws) == 0 {
		return out, nil
	}
	// Each window's sums side by side, over the rows of any of them.
	in, args := idList(ids)
	var cols, either []string
	var colArgs, anyArgs []any
	for _, w := range ws {
		cond, a := `period=? AND start_ms>=? AND start_ms<?`, []any{w.Period, ms(w.From), ms(w.To)}
		for _, c := range []string{`tests`, `down`} {
			cols, colArgs = append(cols, `sum(CASE WHEN `+cond+` THEN `+c+` ELSE 0 END)`), append(colArgs, a...)
		}
		cols, colArgs = append(cols, `max(CASE WHEN `+cond+` THEN start_ms END)`), append(colArgs, a...)
		either, anyArgs = append(either, `(`+cond+`)`), append(anyArgs, a...)
	}
	rows, err := s.r.Query(ctx, `SELECT monitor_id, `+strings.Join(cols, `, `)+` FROM rollups
		WHERE monitor_id IN (`+in+`) AND (`+strings.Join(either, ` OR `)+`) GROUP BY monitor_id`,
		append(append(colArgs, args...), anyArgs...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	dest := make([]any, 1+3*len(ws))
	var id int64
	sums := make([]int, 2*len(ws))
	lasts := make([]sql.NullInt64, len(ws))
	dest[0] = &id
	for i := range ws {
		dest[1+3*i], dest[2+3*i], dest[3+3*i] = &sums[2*i], &sums[2*i+1], &lasts[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		for i := range ws {
			if lasts[i].Valid { // a roll-up in the window
				out[i][id] = store.Counts{Tests: sums[2*i], Down: sums[2*i+1], Last: fromMS(lasts[i].Int64)}
			}
		}
	}
	return out, rows.Err()
}

func (s *Store) RawCounts(ctx context.Context, ids []int64, from, to time.Time) (map[int64]store.Counts, error) {
	if len(ids) == 0 {
		return map[int64]store.Counts{}, nil
	}
	in, args := idList(ids)
	return scanCounts(ctx, s.r, `SELECT monitor_id, count(*), sum(CASE WHEN status=2 THEN 1 ELSE 0 END), CAST(NULL AS BIGINT) FROM results
		WHERE monitor_id IN (`+in+`) AND t_ms>=? AND t_ms<? GROUP BY monitor_id`, append(args, ms(from), ms(to))...)
}

func (s *Store) RawRollup(ctx context.Context, monitorID int64, from, to time.Time) (store.Rollup, error) {
	ss, err := List(ctx, s.r, func(rows Row) (store.Sample, error) {
		var sm store.Sample
		var d sql.NullInt64
		err := rows.Scan(&sm.Status, &sm.RTT, &d)
		sm.Delivery, sm.HasDelivery = d.Int64, d.Valid
		return sm, err
	}, `SELECT status, rtt_us, delivery_us FROM results WHERE monitor_id=? AND t_ms>=? AND t_ms<?`, monitorID, ms(from), ms(to))
	if err != nil {
		return store.Rollup{}, err
	}
	r := store.Aggregate(ss)
	r.MonitorID, r.Start = monitorID, from
	return r, nil
}
