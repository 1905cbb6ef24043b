package api

import (
	"net/http"
	"net/url"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/config"
)

// statusPageJSON is a status page as the API shows it: its settings and
// where it is (docs/status-pages.md). Pages are set with mailmon apply.
type statusPageJSON struct {
	config.StatusPage
	URL string `json:"url"`
}

func (s *Server) listStatusPages(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.Store.StatusPages(r.Context())
	if err != nil {
		return err
	}
	out := make([]statusPageJSON, 0, len(ps))
	for i := range ps {
		sp, err := catalog.StatusPage(&ps[i])
		if err != nil {
			return err
		}
		out = append(out, statusPageJSON{StatusPage: sp, URL: "/status/" + url.PathEscape(sp.Name)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out, "total": len(out)})
	return nil
}

// deleteStatusPage deletes a status page by name: a page that apply made
// stays until then, as apply never deletes.
func (s *Server) deleteStatusPage(w http.ResponseWriter, r *http.Request) error {
	if err := s.catalog().DeleteStatusPage(r.Context(), s.origin(r), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
