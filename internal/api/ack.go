package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/store"
)

// ackJSON is an acknowledgement of a monitor's outage.
type ackJSON struct {
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Since   time.Time `json:"since"` // the outage's start
	Comment string    `json:"comment,omitempty"`
}

func ackOut(a *store.Ack) *ackJSON {
	if a == nil {
		return nil
	}
	return &ackJSON{By: a.By, At: a.At, Since: a.Since, Comment: a.Comment}
}

// ackMonitor acknowledges a monitor's outage: no more alerts for it, the
// recovery still notifies. Who is the token's name.
func (s *Server) ackMonitor(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		Comment string `json:"comment"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	a, err := s.catalog().Acknowledge(r.Context(), s.origin(r), id, in.Comment, time.Now())
	if errors.Is(err, catalog.ErrNothingToAck) {
		return httpError{http.StatusConflict, err.Error()}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ackOut(a))
	return nil
}
