package store

import "context"

// Walk reads every row of a list, size at a time by id (Page.ByID), and
// calls fn with each page and the number of rows the list counted with
// it. id is a row's id. A row deleted or created during the walk is read
// or not, but no other row is skipped or read twice.
func Walk[T any](ctx context.Context, size int, list func(context.Context, Page) ([]T, int, error), id func(*T) int64, fn func(rows []T, total int) error) error {
	p := Page{Limit: size, ByID: true}
	size = p.LimitOr(100)
	for {
		rows, total, err := list(ctx, p)
		if err != nil {
			return err
		}
		if len(rows) > 0 {
			if err := fn(rows, total); err != nil {
				return err
			}
			p.After = id(&rows[len(rows)-1])
		}
		if len(rows) < size {
			return nil
		}
	}
}

// AllMonitors is Monitors as a list for Walk: every monitor.
func AllMonitors(c Config) func(context.Context, Page) ([]Monitor, int, error) {
	return func(ctx context.Context, p Page) ([]Monitor, int, error) {
		return c.Monitors(ctx, MonitorFilter{Page: p})
	}
}

// MonitorID, DeviceID, AlertID and CredentialID are the ids of rows for Walk.
func MonitorID(m *Monitor) int64       { return m.ID }
func DeviceID(d *Device) int64         { return d.ID }
func AlertID(a *Alert) int64           { return a.ID }
func CredentialID(c *Credential) int64 { return c.ID }
