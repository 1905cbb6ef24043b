package config

import (
	"time"
)

// WeekRange is a range of time on some days of each week, in a time zone: it
// starts at Start (minutes after midnight) on each of Days and ends at End
// the same day (the next day when End is not after Start), both read on
// the wall clock of Zone, as a person there reads them; or, with For set,
// For after its start, however the clocks change meanwhile. A range that
// starts in the hour a clock skips starts when the clock reaches it.
//
// It is the one place where "zone + weekly ranges" is decided: monitors'
// and devices' maintenance windows (schedule.WindowRange) and alert
// actions' hours (Weekly.Range).
type WeekRange struct {
	Days       [7]bool // by time.Weekday
	Start, End int     // minutes after midnight
	For        time.Duration
	Zone       *time.Location // nil: time.Local
}

// Contains reports whether t falls in one of w's ranges.
func (w WeekRange) Contains(t time.Time) bool {
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
func (w WeekRange) span(day time.Time, zone *time.Location) (start, end time.Time) {
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

// NextStart is the first start of one of w's ranges after t, and that
// range's end (ok false: none within eight days, i.e. no day set).
func (w WeekRange) NextStart(t time.Time) (start, end time.Time, ok bool) {
	zone := w.Zone
	if zone == nil {
		zone = time.Local
	}
	local := t.In(zone)
	for ahead := 0; ahead <= 8; ahead++ {
		day := time.Date(local.Year(), local.Month(), local.Day()+ahead, 12, 0, 0, 0, zone)
		if !w.Days[day.Weekday()] {
			continue
		}
		if s, e := w.span(day, zone); s.After(t) {
			return s, e, true
		}
	}
	return time.Time{}, time.Time{}, false
}
