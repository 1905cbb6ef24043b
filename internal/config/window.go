package config

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Days are the names of a weekly window's days.
var Days = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"} // by time.Weekday

// checkWindows checks the maintenance windows of the record at p.
func checkWindows(p string, ws []Window, add func(path, format string, args ...any)) {
	for k, w := range ws {
		wp := fmt.Sprintf("%s.maintenance[%d]", p, k)
		if _, err := LoadZone(w.Zone); err != nil {
			add(wp+".zone", "%v", err)
		}
		if err := w.check(); err != nil {
			add(wp, "%v", err)
		}
	}
}

func (w Window) check() error {
	if len(w.Days) == 0 {
		s, err1 := time.Parse(time.RFC3339, w.Start)
		e, err2 := time.Parse(time.RFC3339, w.End)
		if err1 != nil || err2 != nil || !e.After(s) || w.Duration != 0 {
			return fmt.Errorf("a window is start and end (RFC 3339, end after start), or days, start (HH:MM) and end (HH:MM) or duration")
		}
		return nil
	}
	for _, d := range w.Days {
		if !slices.Contains(Days, strings.ToLower(d)) {
			return fmt.Errorf("%q is not a day (mon … sun)", d)
		}
	}
	if _, err := time.Parse("15:04", w.Start); err != nil {
		return fmt.Errorf("start %q is not a time of day (HH:MM)", w.Start)
	}
	switch {
	case w.End != "" && w.Duration != 0:
		return fmt.Errorf("a weekly window has end (a time of day) or duration, not both")
	case w.End != "":
		if _, err := time.Parse("15:04", w.End); err != nil {
			return fmt.Errorf("end %q is not a time of day (HH:MM); with days, end is the time of day the window ends", w.End)
		}
	case w.Duration <= 0 || w.Duration > Duration(7*24*time.Hour):
		return fmt.Errorf("a weekly window needs an end (HH:MM) or a duration up to a week")
	}
	return nil
}

// StoredWindows reads windows stored as JSON (a device's; nil or bad:
// none, validation kept bad ones out).
func StoredWindows(b []byte) []Window {
	var ws []Window
	if len(b) > 0 {
		json.Unmarshal(b, &ws)
	}
	return ws
}

// Text is the window on one line, as the web UI's form takes it back
// (ParseWindowText): START END for a one-off window, DAYS HH:MM-HH:MM
// [ZONE] or DAYS HH:MM DURATION [ZONE] for a weekly one.
func (w Window) Text() string {
	if len(w.Days) == 0 {
		return w.Start + " " + w.End
	}
	s := strings.Join(w.Days, ",") + " " + w.Start
	if w.End != "" {
		s += "-" + w.End
	} else {
		s += " " + w.Duration.Short()
	}
	if w.Zone != "" {
		s += " " + w.Zone
	}
	return s
}

// ParseWindowText reads a line of Text. Validation (File.Validate) says
// what is wrong with the window's parts.
func ParseWindowText(line string) (Window, error) {
	f := strings.Fields(line)
	weekly := len(f) >= 2 && len(f) <= 4 && !strings.Contains(f[0], ":")
	switch {
	case len(f) == 2 && !weekly:
		return Window{Start: f[0], End: f[1]}, nil
	case weekly:
		w := Window{Days: strings.Split(f[0], ",")}
		rest := f[2:]
		if from, to, ok := strings.Cut(f[1], "-"); ok {
			w.Start, w.End = from, to
		} else {
			w.Start = f[1]
			if len(rest) == 0 {
				return w, fmt.Errorf("%q has no end (HH:MM-HH:MM) or duration", line)
			}
			d, err := time.ParseDuration(rest[0])
			if err != nil {
				return w, fmt.Errorf("%q is not a duration (like 2h)", rest[0])
			}
			w.Duration, rest = Duration(d), rest[1:]
		}
		switch len(rest) {
		case 0:
		case 1:
			w.Zone = rest[0]
		default:
			return w, fmt.Errorf("%q is not DAYS HH:MM-HH:MM [ZONE] or DAYS HH:MM DURATION [ZONE]", line)
		}
		return w, nil
	}
	return Window{}, fmt.Errorf("%q is not START END, DAYS HH:MM-HH:MM [ZONE] or DAYS HH:MM DURATION [ZONE]", strings.TrimSpace(line))
}

// Short is d as people write it: 2h, 90m, 30s (not 2h0m0s).
func (d Duration) Short() string {
	x := d.D().String()
	if strings.HasSuffix(x, "m0s") {
		x = strings.TrimSuffix(x, "0s")
	}
	if strings.HasSuffix(x, "h0m") {
		x = strings.TrimSuffix(x, "0m")
	}
	return x
}
