package schedule

import (
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/config"
)

// WindowRange is a weekly maintenance window as a config.WeekRange (ok false: a
// one-off window, or one that does not parse; validation reports it).
func WindowRange(w config.Window) (r config.WeekRange, ok bool) {
	if len(w.Days) == 0 {
		return r, false
	}
	start, err := time.Parse("15:04", w.Start)
	if err != nil {
		return r, false
	}
	if r.Zone, err = config.LoadZone(w.Zone); err != nil {
		return r, false
	}
	r.Start = start.Hour()*60 + start.Minute()
	if w.End != "" {
		end, err := time.Parse("15:04", w.End)
		if err != nil {
			return r, false
		}
		r.End = end.Hour()*60 + end.Minute()
	} else {
		r.For = w.Duration.D()
	}
	for _, d := range w.Days {
		for i, name := range config.Days {
			if strings.EqualFold(d, name) {
				r.Days[i] = true
			}
		}
	}
	return r, true
}
