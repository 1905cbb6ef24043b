package schedule

import (
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
)

// TestNextWindow: the earliest window to come, once or weekly, within the
// horizon; none that has begun or lies beyond it.
func TestNextWindow(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.Local) // a Wednesday
	once := config.Window{Start: now.Add(5 * time.Hour).Format(time.RFC3339), End: now.Add(6 * time.Hour).Format(time.RFC3339)}
	weekly := config.Window{Days: []string{"thu"}, Start: "02:00", Duration: config.Duration(time.Hour)}
	begun := config.Window{Days: []string{"wed"}, Start: "11:00", Duration: config.Duration(2 * time.Hour)}
	thu2 := time.Date(2026, 3, 5, 2, 0, 0, 0, time.Local)
	for _, tc := range []struct {
		name   string
		ws     []config.Window
		within time.Duration
		start  time.Time
		ok     bool
	}{
		{"once, soonest", []config.Window{weekly, once}, 7 * 24 * time.Hour, now.Add(5 * time.Hour), true},
		{"weekly", []config.Window{weekly}, 7 * 24 * time.Hour, thu2, true},
		{"begun: next week's", []config.Window{begun}, 8 * 24 * time.Hour, time.Date(2026, 3, 11, 11, 0, 0, 0, time.Local), true},
		{"beyond the horizon", []config.Window{weekly}, time.Hour, time.Time{}, false},
		{"none", nil, time.Hour, time.Time{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, ok := NextWindow(tc.ws, now, tc.within)
			if ok != tc.ok || !s.Equal(tc.start) {
				t.Errorf("got %v %v, want %v %v", s, ok, tc.start, tc.ok)
			}
		})
	}
}
