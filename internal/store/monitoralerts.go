package store

import "context"

// MonitorsAlerts is what a store may offer besides Config: the alerts of
// many monitors in one read. The engine's load at start read each
// monitor's alone (MonitorAlerts): at 20,000 monitors, half the load's
// CPU once the rest was read a page at a time.
type MonitorsAlerts interface {
	// MonitorsAlerts is the alert ids of each of ids that has any, in
	// ascending order as MonitorAlerts gives them; a monitor without
	// alerts (or unknown) is not in the map.
	MonitorsAlerts(ctx context.Context, ids []int64) (map[int64][]int64, error)
}
