package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/mailmon/mailmon/internal/catalog"
)

// ackMonitor acknowledges the monitor's outage from its page: no more
// alerts for it; its recovery still notifies. Who is the signed-in user.
func (s *Server) ackMonitor(w http.ResponseWriter, r *http.Request, c *call) error {
	m, _, err := s.loadMonitor(r.Context(), r)
	if err != nil {
		return err
	}
	r.ParseForm()
	_, err = s.Catalog.Acknowledge(r.Context(), c.origin, m.ID, r.PostForm.Get("comment"), s.Now())
	var fe catalog.FieldErrors
	switch {
	case errors.Is(err, catalog.ErrNothingToAck):
		return httpError{http.StatusConflict, err.Error()}
	case errors.As(err, &fe):
		return httpError{http.StatusBadRequest, "the comment " + fe[0].Msg}
	case err != nil:
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/monitors/%d", m.ID), http.StatusSeeOther)
	return nil
}
