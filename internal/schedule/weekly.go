package schedule

import (
	"time"
)

// Weekly is a range of time on some days of each week, in a time zone: it
// starts at Start (minutes after midnight) on each of Days and ends at End
// the same day (the next day when End is not after Start), both read on
// the wall clock of Zone, as a person there reads them; or, with For set,
// For after its start, however the clocks change meanwhile. A range that
// starts in the hour a clock skips starts when the clock reaches it.
//
// It is the one place where "zone + weekly ranges" is decided: monitors'
// and devices' maintenance windows, and anything else weekly by zone.
type Weekly struct {
	Days       [7]bool // by time.Weekday
	Start, End int     // minutes after midnight
	For        time.Duration
	Zone       *time.Location // nil: time.Local
}

// Contains reports whether t falls in one of w's ranges.
func (w Weekly) Contains(t time.Time) bool {
	zone := w.Zone
	if zone == nil {
		zone = time.Local
	}
	local := t.In(zone)
	// A range that began on one of its days, up to a week ago.
	for back := 0; back <= 7; back++ {
		// Noon of the day: a date's arithmetic is clear of any DST change.
		day := time.Date(local.Year(), local.Month(), local.Day()-back, 12, 0, 0, 0, zone)
		if !w.Days[day.Weekday()] {
			continue
		}
		start, end := w.span(day, zone)
		if !t.Before(start) && t.Before(end) {
			return true
		}
	}
	return false
}

// span is the range that begins on day.
func (w Weekly) span(day time.Time, zone *time.Location) (start, end time.Time) {
	y, m, d := day.Date()
	start = time.Date(y, m, d, 0, w.Start, 0, 0, zone)
	if w.For > 0 {
		return start, start.Add(w.For)
	}
	if w.End <= w.Start {
		d++
	}
	return start, time.Date(y, m, d, 0, w.End, 0, 0, zone)
}
