package sqlstore

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
)

// A monitor's last store.RecentSize results are kept next to its status,
// in monitor_status.recent, so that the board reads its bars with the
// statuses instead of one query a row. The column is a ring of fixed-size
// entries, oldest first: the status upsert appends the new result's entry
// and keeps the last recentBytes (Dialect.Tail), in the statement that
// already writes the row, so a test costs no extra statement and the row
// never grows past 400 bytes. NULL: not kept yet (a status from before
// migration 00015); FillRecent fills it from the results.
//
// An entry is 10 bytes, big-endian: the time in Unix seconds (uint32), the
// rtt in microseconds (uint32, at most 71 minutes), the status (0 up,
// 1 warn, 2 down, as results.status) and the code (recentCodes' index).
const (
	recentEntry = 10
	recentBytes = store.RecentSize * recentEntry
)

// recentCodes numbers the codes in a ring entry. Append only: the
// numbers are stored. 0 is no code, 255 one missing here (shown without).
var recentCodes = []probe.Code{"",
	probe.ConfigMissing, probe.DNSFailed, probe.ConnectFailed, probe.Timeout, probe.Disconnected,
	probe.ProtocolViolation, probe.ServiceError, probe.TLSUnavailable, probe.TLSFailed, probe.CertInvalid,
	probe.AuthFailed, probe.AuthUnsupported, probe.SendRejected, probe.NotDelivered, probe.DeliveredToJunk,
	probe.Listed, probe.LookupRefused, probe.RecordMissing, probe.RecordInvalid, probe.PolicyMismatch,
	probe.TLSAMismatch, probe.DNSSECInvalid, probe.AuthResultsFailed}

var recentCodeIndex = func() map[probe.Code]byte {
	m := make(map[probe.Code]byte, len(recentCodes))
	for i, c := range recentCodes {
		m[c] = byte(i)
	}
	return m
}()

// appendRecent appends r's ring entry to b.
func appendRecent(b []byte, r store.Result) []byte {
	code, ok := recentCodeIndex[r.Code]
	if !ok {
		code = 255
	}
	b = binary.BigEndian.AppendUint32(b, uint32(min(max(r.Time.Unix(), 0), math.MaxUint32)))
	b = binary.BigEndian.AppendUint32(b, uint32(min(max(r.RTT.Microseconds(), 0), math.MaxUint32)))
	return append(b, byte(statusCode(r.Status)), code)
}

// decodeRecent is the results of a ring, newest first.
func decodeRecent(monitorID int64, b []byte) []store.Result {
	n := len(b) / recentEntry
	out := make([]store.Result, n)
	for i := range n {
		e := b[(n-1-i)*recentEntry:]
		r := &out[i]
		r.MonitorID = monitorID
		r.Time = time.Unix(int64(binary.BigEndian.Uint32(e)), 0).UTC()
		r.RTT = time.Duration(binary.BigEndian.Uint32(e[4:])) * time.Microsecond
		r.Status = codeStatus(int(e[8]))
		if c := int(e[9]); c < len(recentCodes) {
			r.Code = recentCodes[c]
		}
	}
	return out
}

// encodeRecent is the ring of results given newest first (the last
// store.RecentSize of them).
func encodeRecent(rs []store.Result) []byte {
	rs = rs[:min(len(rs), store.RecentSize)]
	b := make([]byte, 0, len(rs)*recentEntry)
	for i := len(rs) - 1; i >= 0; i-- {
		b = appendRecent(b, rs[i])
	}
	return b
}

// recentSet is the SET of the ring on a status upsert: the new entry
// (excluded.recent, empty for a status without a result: bytesArg) appended, the
// oldest dropped; a ring not kept yet stays so, for FillRecent.
func recentSet(d Dialect) string {
	return `recent=CASE WHEN monitor_status.recent IS NULL THEN NULL ELSE ` +
		d.Tail(`monitor_status.recent || excluded.recent`, recentBytes) + ` END`
}

// bytesArg is a binary argument, nil for none: SQLite binds an empty
// []byte as NULL, and NULL is a ring not kept yet.
func bytesArg(d Dialect) string { return `coalesce(?, CAST('' AS ` + d.Bytes + `))` }

func (s *Store) BoardStatuses(ctx context.Context, ids []int64) (map[int64]*store.BoardStatus, error) {
	out := map[int64]*store.BoardStatus{}
	if len(ids) == 0 {
		return out, nil
	}
	in, args := idList(ids)
	list, err := List(ctx, s.r, func(row Row) (store.BoardStatus, error) {
		var b store.BoardStatus
		var recent []byte
		var known bool // SQLite's driver reads an empty blob as nil
		var since, at sql.NullInt64
		var by, comment sql.NullString
		st, err := scanStatus(scanFirst{row, []any{&recent, &known, &since, &by, &at, &comment}})
		if err != nil {
			return b, err
		}
		b.Status = st
		b.Recent, b.RecentKnown = decodeRecent(st.MonitorID, recent), known
		if since.Valid {
			b.Ack = &store.Ack{MonitorID: st.MonitorID, Since: fromMS(since.Int64), By: by.String, At: fromMS(at.Int64), Comment: comment.String}
		}
		return b, nil
	}, `SELECT s.monitor_id, s.status, s.last_result, s.last_ms, s.version, s.recent, s.recent IS NOT NULL, a.since_ms, a.by_name, a.at_ms, a.comment
		FROM monitor_status s LEFT JOIN acks a ON a.monitor_id=s.monitor_id WHERE s.monitor_id IN (`+in+`)`, args...)
	for i := range list {
		out[list[i].MonitorID] = &list[i]
	}
	return out, err
}

func (s *Store) DeviceNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	in, args := idList(ids)
	rows, err := s.r.Query(ctx, `SELECT id, name FROM devices WHERE id IN (`+in+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rows.Err()
}

// scanFirst is a row whose scan fills more after the destinations given
// to Scan: scanStatus's columns, then the board's.
type scanFirst struct {
	Row
	more []any
}

func (r scanFirst) Scan(dest ...any) error { return r.Row.Scan(append(dest, r.more...)...) }

// FillRecent fills the rings not kept yet (statuses from before migration
// 00015) from the results, a batch a transaction; a status that a test
// changes meanwhile keeps its NULL (its version moved) and is read from
// the results by the board until the next start. Run on open: after the
// upgrade it finds nothing, at the cost of one indexed query.
func (s *Store) FillRecent(ctx context.Context) error {
	var after int64
	for {
		type todo struct{ id, version int64 }
		var batch []todo
		err := s.tx(ctx, func(tx Conn) error {
			list, err := List(ctx, tx, func(row Row) (todo, error) {
				var t todo
				return t, row.Scan(&t.id, &t.version)
			}, `SELECT monitor_id, version FROM monitor_status WHERE recent IS NULL AND monitor_id>? ORDER BY monitor_id LIMIT 500`, after)
			if err != nil {
				return err
			}
			batch = list
			for _, t := range list {
				rs, err := recentResults(ctx, tx, t.id, store.RecentSize)
				if err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `UPDATE monitor_status SET recent=`+bytesArg(s.d)+` WHERE monitor_id=? AND version=? AND recent IS NULL`,
					encodeRecent(rs), t.id, t.version); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("filling the board's last results: %w", err)
		}
		if len(batch) == 0 {
			return nil
		}
		after = batch[len(batch)-1].id
	}
}
