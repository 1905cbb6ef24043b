package api

import "time"

// actionHealthJSON is how an alert action's deliveries from this node go:
// when one last succeeded, the last failed attempt's error (as the alert
// log keeps it: a webhook's URL shows no more than its origin), and the
// notifications queued here (waiting, under way or backing off).
type actionHealthJSON struct {
	LastSuccess *time.Time `json:"last_success"`
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	Sent        int        `json:"sent"`
	Failed      int        `json:"failed"`
	Queued      int        `json:"queued"`
	InFlight    int        `json:"in_flight"`
}

// actionHealth is alert id's health, with nothing to say (nil) when this
// node has not delivered to it since it started.
func (s *Server) actionHealth(id int64) *actionHealthJSON {
	if s.Engine == nil {
		return nil
	}
	for _, h := range s.Engine.ActionHealth() {
		if h.AlertID != id {
			continue
		}
		return &actionHealthJSON{LastSuccess: timeOrNil(h.LastSuccess), LastError: h.LastError, LastErrorAt: timeOrNil(h.LastErrorAt),
			Sent: h.Sent, Failed: h.Failed, Queued: h.Queued, InFlight: h.Busy}
	}
	return nil
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
