package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/store"
)

// actorKey holds a request's token, as the catalog's Actor.
type actorKey struct{}

func withActor(r *http.Request, a catalog.Actor) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), actorKey{}, a))
}

// origin is who asks, for the catalog: the request's token over the
// network. A request that no token was checked for names nobody, and the
// catalog refuses its writes.
func (s *Server) origin(r *http.Request) catalog.Origin {
	a, _ := r.Context().Value(actorKey{}).(catalog.Actor)
	return catalog.Network.As(a)
}

func scopesOr(s catalog.Scopes) string {
	if s == 0 {
		return "no scope"
	}
	return s.String()
}

// auditJSON is an audit entry as the API shows it.
type auditJSON struct {
	ID        int64               `json:"id"`
	Time      time.Time           `json:"time"`
	ActorKind string              `json:"actor_kind"`
	Actor     string              `json:"actor"`
	Address   string              `json:"address"`
	Kind      string              `json:"kind"`
	ObjectID  int64               `json:"object_id"`
	Name      string              `json:"name"`
	Action    string              `json:"action"`
	Changes   []store.AuditChange `json:"changes"`
}

// audit lists the audit log, newest first: filtered by actor, kind,
// object_id and time (from, to: RFC 3339), paged by limit and offset.
func (s *Server) audit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := store.AuditFilter{Page: page(r), Actor: q.Get("actor"), Kind: q.Get("kind")}
	if v := q.Get("object_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fieldErrors{{Path: "object_id", Msg: "is a record's id"}}
		}
		f.ObjectID = id
	}
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return fieldErrors{{Path: p.name, Msg: "is an RFC 3339 time"}}
			}
			*p.t = t
		}
	}
	es, total, err := s.Store.Audit(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]auditJSON, 0, len(es))
	for _, e := range es {
		ch := e.Changes
		if ch == nil {
			ch = []store.AuditChange{}
		}
		out = append(out, auditJSON{e.ID, e.Time, e.ActorKind, e.Actor, e.Address, e.Kind, e.ObjectID, e.Name, e.Action, ch})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out, "total": total})
	return nil
}
