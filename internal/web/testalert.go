package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/store"
)

// testAlert sends a test alert through a stored alert's action (the
// engine's outbox, rate limited) and shows how it went on the alert's
// form.
func (s *Server) testAlert(w http.ResponseWriter, r *http.Request, c *call) error {
	a, err := s.pathAlert(r)
	if err != nil {
		return err
	}
	id := a.ID
	status, msg := http.StatusOK, ""
	switch {
	case s.Engine == nil:
		status, msg = http.StatusServiceUnavailable, "the scheduler is not running: test alerts are sent by mailmon serve"
	default:
		err := s.Engine.TestAlert(r.Context(), id)
		switch {
		case err == nil:
			http.Redirect(w, r, "/alerts/"+strconv.FormatInt(id, 10)+"/edit?test=sent", http.StatusSeeOther)
			return nil
		case errors.Is(err, alert.ErrTestTooSoon):
			status, msg = http.StatusTooManyRequests, err.Error()
		case errors.Is(err, store.ErrNotFound):
			return err
		default:
			status, msg = http.StatusBadGateway, "The test alert was not delivered: "+err.Error()
		}
	}
	return s.renderAlerts(w, r, c, status, id, alertValues(a), map[string]string{"": msg})
}
