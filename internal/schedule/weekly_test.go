package schedule

import (
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
)

// TestWindowAcrossDST: a weekly window 01:30–03:30 on Sundays in
// Europe/Berlin starts and ends where a person in Berlin reads those
// times on the wall clock, on the Sundays the clocks go forward
// (2026-03-29, 02:00 → 03:00: the window lasts an hour) and back
// (2026-10-25, 03:00 → 02:00: three hours), whatever the daemon's zone.
func TestWindowAcrossDST(t *testing.T) {
	berlin := []config.Window{{Days: []string{"sun"}, Start: "01:30", End: "03:30", Zone: "Europe/Berlin"}}
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		name       string
		ws         []config.Window
		start, end time.Time
	}{
		{"spring forward", berlin, utc("2026-03-29T00:30:00Z"), utc("2026-03-29T01:30:00Z")},     // 01:30 CET – 03:30 CEST
		{"fall back", berlin, utc("2026-10-24T23:30:00Z"), utc("2026-10-25T02:30:00Z")},          // 01:30 CEST – 03:30 CET
		{"an ordinary Sunday", berlin, utc("2026-06-06T23:30:00Z"), utc("2026-06-07T01:30:00Z")}, // CEST
		// A start in the hour the clocks skip begins an hour later that day.
		{"start in the skipped hour", []config.Window{{Days: []string{"sun"}, Start: "02:30", End: "04:00", Zone: "Europe/Berlin"}},
			utc("2026-03-29T01:30:00Z"), utc("2026-03-29T02:00:00Z")},
		// A duration is elapsed time: 2h from 01:30 CET is 04:30 CEST.
		{"duration, spring forward", []config.Window{{Days: []string{"sun"}, Start: "01:30", Duration: config.Duration(2 * time.Hour), Zone: "Europe/Berlin"}},
			utc("2026-03-29T00:30:00Z"), utc("2026-03-29T02:30:00Z")},
		// Across midnight: Saturday 23:00 to Sunday 01:00 in New York.
		{"across midnight", []config.Window{{Days: []string{"sat"}, Start: "23:00", End: "01:00", Zone: "America/New_York"}},
			utc("2026-07-12T03:00:00Z"), utc("2026-07-12T05:00:00Z")},
		// UTC, and a day named in capitals.
		{"utc", []config.Window{{Days: []string{"Sun"}, Start: "02:00", End: "04:00", Zone: "UTC"}},
			utc("2026-03-29T02:00:00Z"), utc("2026-03-29T04:00:00Z")},
	} {
		for _, p := range []struct {
			at   time.Time
			want bool
		}{
			{c.start.Add(-time.Nanosecond), false}, {c.start, true}, {c.end.Add(-time.Nanosecond), true}, {c.end, false},
			{c.start.Add(-24 * time.Hour), false}, {c.start.Add(24 * time.Hour), false},
			{c.start.Add(-7*24*time.Hour + 30*time.Minute), true}, // a week before (the same offset as at the start)
		} {
			if got := InMaintenance(c.ws, time.Time{}, p.at); got != p.want {
				t.Errorf("%s: at %s (%s): %v, want %v", c.name, p.at.Format(time.RFC3339Nano), p.at.In(mustZone(t, "Europe/Berlin")).Format("15:04:05 MST"), got, p.want)
			}
		}
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
