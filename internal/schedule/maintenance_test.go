package schedule

import (
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
)

func TestInMaintenance(t *testing.T) {
	// Monday 2026-01-05, in the daemon's zone.
	at := func(day, h, m int) time.Time { return time.Date(2026, 1, 5+day, h, m, 0, 0, time.Local) }
	once := config.Window{Start: "2026-01-05T10:00:00Z", End: "2026-01-05T11:00:00Z"}
	nightly := config.Window{Start: "23:30", Days: []string{"Mon", "wed"}, Duration: config.Duration(time.Hour)}
	for _, tc := range []struct {
		name string
		ws   []config.Window
		now  time.Time
		want bool
	}{
		{"one-off, inside", []config.Window{once}, time.Date(2026, 1, 5, 10, 30, 0, 0, time.UTC), true},
		{"one-off, at its start", []config.Window{once}, time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC), true},
		{"one-off, at its end", []config.Window{once}, time.Date(2026, 1, 5, 11, 0, 0, 0, time.UTC), false},
		{"weekly, on its day", []config.Window{nightly}, at(0, 23, 45), true},
		{"weekly, past midnight into the next day", []config.Window{nightly}, at(1, 0, 15), true},
		{"weekly, after its duration", []config.Window{nightly}, at(1, 0, 30), false},
		{"weekly, another day", []config.Window{nightly}, at(1, 23, 45), false},
		{"weekly, its other day (case-insensitive)", []config.Window{nightly}, at(2, 23, 31), true},
		{"one of several", []config.Window{once, nightly}, at(7, 23, 59), true},
		{"unparsable start", []config.Window{{Start: "late", Days: []string{"mon"}, Duration: config.Duration(24 * time.Hour)}}, at(0, 12, 0), false},
		{"none", nil, at(0, 12, 0), false},
	} {
		if got := InMaintenance(tc.ws, time.Time{}, tc.now); got != tc.want {
			t.Errorf("%s: InMaintenance(%v) = %v, want %v", tc.name, tc.now, got, tc.want)
		}
	}
}

// TestMaintenanceNow: maintenance begun by hand counts until its end, the
// monitor's own or its device's, whichever ends later; it ends by itself.
func TestMaintenanceNow(t *testing.T) {
	now := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	ms := []store.MaintenanceNow{
		{MonitorID: 1, Until: now.Add(time.Hour)},
		{DeviceID: 7, Until: now.Add(2 * time.Hour)},
		{MonitorID: 2, Until: now.Add(3 * time.Hour)},
	}
	for _, tc := range []struct {
		name            string
		monitor, device int64
		want            time.Time
	}{
		{"its own", 1, 9, now.Add(time.Hour)},
		{"its device's, later than its own", 1, 7, now.Add(2 * time.Hour)},
		{"its device's only", 5, 7, now.Add(2 * time.Hour)},
		{"none", 5, 9, time.Time{}},
	} {
		until := Until(ms, tc.monitor, tc.device)
		if !until.Equal(tc.want) {
			t.Errorf("%s: Until = %v, want %v", tc.name, until, tc.want)
		}
		if got := InMaintenance(nil, until, now); got != !tc.want.IsZero() {
			t.Errorf("%s: in maintenance = %v", tc.name, got)
		}
		if InMaintenance(nil, until, now.Add(4*time.Hour)) {
			t.Errorf("%s: still in maintenance after its end", tc.name)
		}
	}
}
