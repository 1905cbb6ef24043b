package schedule

import (
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
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
		if got := InMaintenance(tc.ws, tc.now); got != tc.want {
			t.Errorf("%s: InMaintenance(%v) = %v, want %v", tc.name, tc.now, got, tc.want)
		}
	}
}
