package catalog

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
)

// A monitor's alerts are links to stored alerts: the API sets them by id
// (alerts), apply by name (settings.notify.alerts). The API takes both,
// so that a monitor read with GET can be sent back as it came: GET shows
// the names of the linked alerts in settings.notify.alerts beside their
// ids, and a save resolves the names it is sent. The settings store the
// names of the links, so that the two never tell different stories.

// LinkedAlertNames are the names of the alerts ids, ordered as in like
// (the names a request or the stored settings give) and the others by id;
// nil for none. An id that names no alert is a field error on alerts.
func (c *Catalog) LinkedAlertNames(ctx context.Context, ids []int64, like []string) ([]string, error) {
	var names []string
	for _, id := range ids {
		a, err := c.Store.Alert(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, FieldErrors{{Path: "alerts", Msg: "no such alert"}}
		}
		if err != nil {
			return nil, err
		}
		names = append(names, a.Name)
	}
	rank := func(n string) int {
		if i := slices.Index(like, n); i >= 0 {
			return i
		}
		return len(like)
	}
	slices.SortStableFunc(names, func(a, b string) int { return cmp.Compare(rank(a), rank(b)) })
	return names, nil
}

// monitorAlerts resolves what a save of monitor id (0: new) asks of its
// alerts: ids, names, both, or neither (the stored links are kept). Both
// name the same alerts, or one of them is as GET showed it (the stored
// links) and the other is the change. It returns the links to set (nil:
// keep them) and the names the settings store.
func (c *Catalog) monitorAlerts(ctx context.Context, id int64, ids []int64, names []string) (set []int64, stored []string, err error) {
	var byName []int64
	if names != nil {
		byName = []int64{} // none named: no alerts
	}
	var bad FieldErrors
	for k, n := range names {
		a, err := c.Store.AlertByName(ctx, n)
		if errors.Is(err, store.ErrNotFound) {
			bad = append(bad, config.FieldError{Path: fmt.Sprintf("notify.alerts[%d]", k), Msg: fmt.Sprintf("no alert is named %q", n)})
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		byName = append(byName, a.ID)
	}
	if len(bad) > 0 {
		return nil, nil, bad
	}
	byName = sortedIDs(byName)
	switch {
	case ids != nil && names != nil:
		set = ids
		if slices.Equal(sortedIDs(ids), byName) {
			break
		}
		// They differ: the one left as GET showed it (the stored links)
		// is not the change.
		var now []int64
		if id != 0 {
			if now, err = c.Store.MonitorAlerts(ctx, id); err != nil {
				return nil, nil, err
			}
		}
		switch {
		case id != 0 && slices.Equal(byName, sortedIDs(now)):
		case id != 0 && slices.Equal(sortedIDs(ids), sortedIDs(now)):
			set = byName
		default:
			return nil, nil, FieldErrors{{Path: "notify.alerts", Msg: "names other alerts than alerts (their ids) lists, and both differ from the monitor's: " +
				"send one of the two, or the same alerts in both"}}
		}
	case ids != nil:
		set = ids
	case names != nil:
		set = byName
	case id != 0:
		b, err := c.monitorSpec(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		var was config.Monitor
		if err := json.Unmarshal(b, &was); err != nil {
			return nil, nil, err
		}
		if ids, err = c.Store.MonitorAlerts(ctx, id); err != nil {
			return nil, nil, err
		}
		stored, err = c.LinkedAlertNames(ctx, ids, was.Notify.Alerts)
		return nil, stored, err
	}
	stored, err = c.LinkedAlertNames(ctx, sortedIDs(set), names)
	return set, stored, err
}

// sortedIDs is ids sorted, each once, in a new slice; non-nil when ids is.
func sortedIDs(ids []int64) []int64 {
	if ids == nil {
		return nil
	}
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// alertStubs stand for the stored alerts names in a monitor's validation:
// they exist (monitorAlerts checked), and only the monitor's own problems
// are reported.
func alertStubs(names []string) []config.Alert {
	out := make([]config.Alert, len(names))
	for i, n := range names {
		out[i].Name = n
	}
	return out
}
