package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
)

// An escalation (config.Escalation) names other alert actions. Saved one
// at a time (the API, the UI), an alert or monitor is validated without
// the rest of a file: the names it escalates to stand in as stubs, and are
// checked against the stored alerts here instead.

// escalationStubs are stubs of the alerts e names (none for nil), but
// self.
func escalationStubs(e *config.Escalation, self string) []config.Alert {
	if e == nil {
		return nil
	}
	var names []string
	for _, n := range e.To {
		if n != self {
			names = append(names, n)
		}
	}
	return alertStubs(names)
}

// checkEscalation reports the names of e (at path, like "escalate") that
// no stored alert has.
func (c *Catalog) checkEscalation(ctx context.Context, e *config.Escalation, path, self string) (FieldErrors, error) {
	if e == nil {
		return nil, nil
	}
	var bad FieldErrors
	for k, n := range e.To {
		if n == self {
			continue // validation says so
		}
		if _, err := c.Store.AlertByName(ctx, n); errors.Is(err, store.ErrNotFound) {
			bad = append(bad, config.FieldError{Path: fmt.Sprintf("%s.to[%d]", path, k), Msg: fmt.Sprintf("no alert is named %q", n)})
		} else if err != nil {
			return nil, err
		}
	}
	return bad, nil
}

// onlyUnder keeps the problems of errs under prefix (those of the stubs
// beside it are not the caller's).
func onlyUnder(errs []config.FieldError, prefix string) []config.FieldError {
	var out []config.FieldError
	for _, e := range errs {
		if strings.HasPrefix(e.Path, prefix) || e.Path == strings.TrimSuffix(prefix, ".") {
			out = append(out, e)
		}
	}
	return out
}
