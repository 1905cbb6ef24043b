package sqlstore

import (
	"context"
	"encoding/json"

	"github.com/mailmon/mailmon/internal/store"
)

func (s *Store) PutStatusPage(ctx context.Context, p *store.StatusPage) error {
	t := now()
	if p.ID == 0 {
		err := s.w.QueryRow(ctx, `INSERT INTO status_pages(name, public, spec, created_ms, updated_ms) VALUES(?,?,?,?,?) RETURNING id`,
			p.Name, p.Public, specJSON(p.Spec), ms(t), ms(t)).Scan(&p.ID)
		if err != nil {
			return s.conflict(err)
		}
		p.Created, p.Updated = t, t
		return nil
	}
	p.Updated = t
	return s.conflict(affected(s.w.Exec(ctx, `UPDATE status_pages SET name=?, public=?, spec=?, updated_ms=? WHERE id=?`,
		p.Name, p.Public, specJSON(p.Spec), ms(t), p.ID)))
}

var statusPages = named[store.StatusPage]{"status_pages", `id, name, public, spec, created_ms, updated_ms`, scanStatusPage}

func scanStatusPage(sc Row) (store.StatusPage, error) {
	var p store.StatusPage
	var spec string
	var cr, up int64
	if err := sc.Scan(&p.ID, &p.Name, &p.Public, &spec, &cr, &up); err != nil {
		return p, notFound(err)
	}
	p.Spec = json.RawMessage(spec)
	p.Created, p.Updated = fromMS(cr), fromMS(up)
	return p, nil
}

func (s *Store) StatusPageByName(ctx context.Context, name string) (*store.StatusPage, error) {
	return statusPages.get(ctx, s.r, "name", name)
}

func (s *Store) StatusPages(ctx context.Context) ([]store.StatusPage, error) {
	return statusPages.all(ctx, s.r)
}

func (s *Store) DeleteStatusPage(ctx context.Context, id int64) error {
	return statusPages.delete(ctx, s.w, id)
}
