package api

import (
	"errors"
	"net/http"

	"github.com/mailmon/mailmon/internal/alert"
	"github.com/mailmon/mailmon/internal/store"
)

// testAlert sends a test alert through a stored alert's action
// (alert.Outbox.Test, rate limited) and says how it went.
func (s *Server) testAlert(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if s.Engine == nil {
		return httpError{http.StatusServiceUnavailable, "the scheduler is not running"}
	}
	switch err := s.Engine.TestAlert(r.Context(), id); {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]bool{"sent": true})
		return nil
	case errors.Is(err, alert.ErrTestTooSoon):
		w.Header().Set("Retry-After", "10")
		return httpError{http.StatusTooManyRequests, err.Error()}
	case errors.Is(err, store.ErrNotFound):
		return err
	default:
		return httpError{http.StatusBadGateway, "the test alert was not delivered: " + err.Error()}
	}
}
