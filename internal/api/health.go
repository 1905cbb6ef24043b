package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/version"
)

// Health, readiness, and what the API answers while the database is away:
// 503 "database unavailable" (with Retry-After), never a 401 for a token
// that could not be checked nor a 500.

// healthz answers 200 while the node does its job, and 503 with the
// problems when it does not: its database unreachable, or (several nodes)
// none of the monitors it should test held.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	if s.Engine == nil {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": version.String()})
		return nil
	}
	h := s.Engine.Health()
	if len(h.Problems) > 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unhealthy", "problems": h.Problems, "version": version.String()})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": version.String()})
	return nil
}

// readyz answers 200 when the node can serve requests (its database
// answers, it is not stopping), 503 otherwise: for load balancers.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.Engine == nil {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		return nil
	}
	h := s.Engine.Health()
	if !h.Ready {
		why := h.Database
		if why == "" {
			why = "the node is stopping"
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": why})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

// unavailable is err as the API tells it: store.ErrUnavailable when the
// database could not be reached, by the error itself or by the node's own
// health checks (a query that failed some other way while the database is
// down).
func (s *Server) unavailable(err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		return err
	}
	if s.Engine != nil && s.Engine.Health().Database != "" {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

func writeUnavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "database unavailable"})
}

// locations are a K-of-N monitor's locations as the verdict sees them now
// (the engine's view: which have a live node, which results are fresh);
// without an engine, each location's latest result of the last day.
func (s *Server) locations(ctx context.Context, m *store.Monitor) ([]locationJSON, error) {
	now := time.Now()
	var out []locationJSON
	add := func(r *store.Result, unknown string) {
		l := locationJSON{Unknown: unknown}
		if r != nil {
			t, age := r.Time, now.Sub(r.Time).Seconds()
			l.Location, l.Node, l.Time, l.Status, l.Code, l.AgeS = r.Location, r.Node, &t, r.Status, r.Code, &age
		}
		out = append(out, l)
	}
	if s.Engine == nil {
		rs, err := s.Store.LatestResults(ctx, m.ID, now.Add(-24*time.Hour))
		for i := range rs {
			add(&rs[i], "")
		}
		return out, err
	}
	views, _, err := s.Engine.Locations(ctx, m)
	for _, v := range views {
		add(v.Latest, v.Unknown)
		out[len(out)-1].Location = v.Location
	}
	return out, err
}
