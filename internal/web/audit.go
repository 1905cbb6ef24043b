package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/mailmon/mailmon/internal/store"
)

// The audit page: who changed what, newest first, by actor, kind or
// record, a page at a time.

const auditPage = 50

type auditData struct {
	Entries      []store.AuditEntry
	Actor, Kind  string
	ObjectID     int64
	Total        int
	Newer, Older string // links to the pages beside, "" for none
}

func (s *Server) audit(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	d := auditData{Actor: q.Get("actor"), Kind: q.Get("kind")}
	d.ObjectID, _ = strconv.ParseInt(q.Get("object"), 10, 64)
	offset, _ := strconv.Atoi(q.Get("offset"))
	offset = max(offset, 0)
	es, total, err := s.Store.Audit(r.Context(), store.AuditFilter{Page: store.Page{Limit: auditPage, Offset: offset},
		Actor: d.Actor, Kind: d.Kind, ObjectID: d.ObjectID})
	if err != nil {
		return err
	}
	d.Entries, d.Total = es, total
	link := func(off int) string {
		v := url.Values{}
		for k, x := range map[string]string{"actor": d.Actor, "kind": d.Kind} {
			if x != "" {
				v.Set(k, x)
			}
		}
		if d.ObjectID != 0 {
			v.Set("object", strconv.FormatInt(d.ObjectID, 10))
		}
		v.Set("offset", strconv.Itoa(off))
		return "/audit?" + v.Encode()
	}
	if offset > 0 {
		d.Newer = link(max(offset-auditPage, 0))
	}
	if offset+len(es) < total {
		d.Older = link(offset + auditPage)
	}
	s.render(w, c, http.StatusOK, "audit", "Audit log", d)
	return nil
}
