package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
)

// Weekly is a weekly range of hours in a named time zone: from From to To
// (HH:MM) on each of Days, in Zone (IANA, like Europe/Berlin; "" is UTC).
// A range whose To is not after its From runs past midnight into the next
// day ("22:00" to "06:00": nights beginning on Days). Times are those of
// the wall clock in Zone, so a range keeps its hours across a change to or
// from summer time: on the day the clocks go forward, 08:00–18:00 lasts
// nine hours, on the day they go back eleven.
//
// It is the one place where a zone and weekly hours are read (an alert
// action's schedule; maintenance windows may use it too).
type Weekly struct {
	Zone string
	Days []string // mon … sun; none: every day
	From string   // HH:MM
	To   string   // HH:MM; 24:00 is midnight at the end of the day
}

// weekDays are the days' names, in time.Weekday's order.
var weekDays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Check reports what is wrong with w, each by its field's name under p.
func (w Weekly) Check(p string, add func(path, format string, args ...any)) {
	if _, err := LoadZone(w.Zone); err != nil {
		add(p+".zone", "%v", err)
	}
	for k, d := range w.Days {
		if !slices.Contains(weekDays, strings.ToLower(d)) {
			add(fmt.Sprintf("%s.days[%d]", p, k), "%q is not a day (mon, tue, wed, thu, fri, sat, sun)%s", d, probe.DidYouMean(strings.ToLower(d), weekDays))
		}
	}
	from, err1 := clock(w.From)
	if err1 != nil {
		add(p+".from", "%v", err1)
	}
	to, err2 := clock(w.To)
	if err2 != nil {
		add(p+".to", "%v", err2)
	}
	if err1 == nil && err2 == nil && from == to {
		add(p+".to", "is the same as from: give the hours the range covers (like from: \"08:00\", to: \"18:00\")")
	}
}

// LoadZone is time.LoadLocation with an error that says what a zone is
// ("" and "UTC" are UTC; "Local" is refused: a range means the same on
// every node).
func LoadZone(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if name == "Local" {
		return nil, fmt.Errorf("%q is not allowed: name the zone (like Europe/Berlin)", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IANA time zone (like Europe/Berlin, America/New_York or UTC)", name)
	}
	return loc, nil
}

// clock reads HH:MM as minutes since midnight; 24:00 is 1440.
func clock(s string) (int, error) {
	if s == "24:00" {
		return 24 * 60, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a time of day (HH:MM, like \"08:00\")", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Contains reports whether t falls in the range. A range that does not
// parse contains nothing (validation reports it).
func (w Weekly) Contains(t time.Time) bool {
	loc, err := LoadZone(w.Zone)
	from, err1 := clock(w.From)
	to, err2 := clock(w.To)
	if err != nil || err1 != nil || err2 != nil || from == to {
		return false
	}
	lt := t.In(loc)
	// The range that began today, or yesterday when it runs past midnight.
	for back := 0; back <= 1; back++ {
		day := lt.AddDate(0, 0, -back)
		if !w.onDay(day.Weekday()) {
			continue
		}
		start := at(day, from, loc)
		end := at(day, to, loc)
		if to <= from {
			end = at(day.AddDate(0, 0, 1), to, loc)
		}
		if !t.Before(start) && t.Before(end) {
			return true
		}
	}
	return false
}

// NextStart is the first start of the range after t (the zero time for
// a range that does not parse).
func (w Weekly) NextStart(t time.Time) time.Time {
	loc, err := LoadZone(w.Zone)
	from, err1 := clock(w.From)
	to, err2 := clock(w.To)
	if err != nil || err1 != nil || err2 != nil || from == to {
		return time.Time{}
	}
	lt := t.In(loc)
	for ahead := 0; ahead <= 8; ahead++ {
		day := lt.AddDate(0, 0, ahead)
		if s := at(day, from, loc); w.onDay(day.Weekday()) && s.After(t) {
			return s
		}
	}
	return time.Time{}
}

func (w Weekly) onDay(wd time.Weekday) bool {
	if len(w.Days) == 0 {
		return true
	}
	for _, d := range w.Days {
		if strings.EqualFold(d, weekDays[wd]) {
			return true
		}
	}
	return false
}

// at is minute m of day's date in loc. A wall time that a change of the
// clocks skips (02:30 on the day they go forward) is the instant after
// the gap, as time.Date makes it.
func at(day time.Time, m int, loc *time.Location) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 0, m, 0, 0, loc)
}

// String is the range as people read it: "mon, tue 08:00–18:00 Europe/Berlin".
func (w Weekly) String() string {
	days := "every day"
	if len(w.Days) > 0 {
		days = strings.Join(w.Days, ", ")
	}
	zone := w.Zone
	if zone == "" {
		zone = "UTC"
	}
	return fmt.Sprintf("%s %s–%s %s", days, w.From, w.To, zone)
}
