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

// Check reports what is wrong with w, each by its field's name under p.
func (w Weekly) Check(p string, add func(path, format string, args ...any)) {
	if _, err := w.zone(); err != nil {
		add(p+".zone", "%v", err)
	}
	for k, d := range w.Days {
		if !slices.Contains(Days, strings.ToLower(d)) {
			add(fmt.Sprintf("%s.days[%d]", p, k), "%q is not a day (mon, tue, wed, thu, fri, sat, sun)%s", d, probe.DidYouMean(strings.ToLower(d), Days))
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

// zone is the range's zone: "" is UTC (a range means the same on every
// node), else as LoadZone reads it ("Local" refused).
func (w Weekly) zone() (*time.Location, error) {
	if w.Zone == "" {
		return time.UTC, nil
	}
	return LoadZone(w.Zone)
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

// Range is w as a WeekRange (ok false: it does not parse; validation
// reports why).
func (w Weekly) Range() (r WeekRange, ok bool) {
	loc, err := w.zone()
	from, err1 := clock(w.From)
	to, err2 := clock(w.To)
	if err != nil || err1 != nil || err2 != nil || from == to {
		return r, false
	}
	r.Zone, r.Start, r.End = loc, from, to
	for i, name := range Days {
		r.Days[i] = len(w.Days) == 0 || slices.ContainsFunc(w.Days, func(d string) bool { return strings.EqualFold(d, name) })
	}
	return r, true
}

// Contains reports whether t falls in the range. A range that does not
// parse contains nothing (validation reports it).
func (w Weekly) Contains(t time.Time) bool {
	r, ok := w.Range()
	return ok && r.Contains(t)
}

// NextStart is the first start of the range after t (the zero time for
// a range that does not parse).
func (w Weekly) NextStart(t time.Time) time.Time {
	r, ok := w.Range()
	if !ok {
		return time.Time{}
	}
	start, _, _ := r.NextStart(t)
	return start
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
