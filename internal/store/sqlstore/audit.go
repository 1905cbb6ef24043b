package sqlstore

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// ---- the audit log

func (s *Store) AddAudit(ctx context.Context, e *store.AuditEntry) error {
	if e.Time.IsZero() {
		e.Time = now()
	}
	ch, err := json.Marshal(e.Changes)
	if err != nil {
		return err
	}
	if e.Changes == nil {
		ch = []byte("[]")
	}
	return s.w.QueryRow(ctx, `INSERT INTO audit(t_ms, actor_kind, actor, address, kind, object_id, name, action, changes) VALUES(?,?,?,?,?,?,?,?,?) RETURNING id`,
		ms(e.Time), e.ActorKind, e.Actor, e.Address, e.Kind, e.ObjectID, e.Name, e.Action, string(ch)).Scan(&e.ID)
}

func scanAudit(sc Row) (store.AuditEntry, error) {
	var e store.AuditEntry
	var t int64
	var ch string
	if err := sc.Scan(&e.ID, &t, &e.ActorKind, &e.Actor, &e.Address, &e.Kind, &e.ObjectID, &e.Name, &e.Action, &ch); err != nil {
		return e, err
	}
	e.Time = fromMS(t)
	return e, json.Unmarshal([]byte(ch), &e.Changes)
}

func (s *Store) Audit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, int, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if f.Actor != "" {
		add(`actor=?`, f.Actor)
	}
	if f.Kind != "" {
		add(`kind=?`, f.Kind)
	}
	if f.ObjectID != 0 {
		add(`object_id=?`, f.ObjectID)
	}
	if !f.From.IsZero() {
		add(`t_ms>=?`, ms(f.From))
	}
	if !f.To.IsZero() {
		add(`t_ms<?`, ms(f.To))
	}
	cond := ""
	if len(where) > 0 {
		cond = ` WHERE ` + strings.Join(where, ` AND `)
	}
	var total int
	if err := s.r.QueryRow(ctx, `SELECT count(*) FROM audit`+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	out, err := List(ctx, s.r, scanAudit, `SELECT id, t_ms, actor_kind, actor, address, kind, object_id, name, action, changes FROM audit`+cond+
		` ORDER BY id DESC LIMIT ? OFFSET ?`, append(args, f.LimitOr(100), f.Offset)...)
	return out, total, err
}

func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	return s.w.Exec(ctx, `DELETE FROM audit WHERE t_ms<?`, ms(before))
}
