package web

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mailmon/mailmon/internal/store"
)

// What the UI says while the node is unwell: a banner on every page while
// its database is unreachable, and a 503 page (not the login form) for
// what needs the database meanwhile.

const unavailableText = "The database is unavailable: mailmon cannot reach it, so this page cannot be shown, " +
	"and this node tests nothing until it is back. Try again in a moment."

// banner is what is wrong with this node now, for the top of every page
// ("" when nothing is).
func (s *Server) banner() string {
	if s.Engine == nil {
		return ""
	}
	if db := s.Engine.Health().Database; db != "" {
		return "The database is unavailable: " + db + ". Monitoring on this node is paused until it is back."
	}
	return ""
}

// unavailable reports whether err comes of the database being away: said
// so by the error, or by the node's health checks.
func (s *Server) unavailable(err error) bool {
	return errors.Is(err, store.ErrUnavailable) || (s.Engine != nil && s.Engine.Health().Database != "")
}

// unknownLocations are the locations of a K-of-N monitor that do not
// count now, each with why and the age of its latest result, for the
// board.
func (s *Server) unknownLocations(ctx context.Context, m *store.Monitor) []string {
	if s.Engine == nil {
		return nil
	}
	views, _, err := s.Engine.Locations(ctx, m)
	if err != nil {
		return nil
	}
	var out []string
	for _, v := range views {
		if v.Unknown == "" {
			continue
		}
		note := v.Location + " unknown: " + v.Unknown
		if v.Latest != nil {
			note += fmt.Sprintf(" (last result %v ago)", s.Now().Sub(v.Latest.Time).Round(time.Second))
		}
		out = append(out, note)
	}
	return out
}
