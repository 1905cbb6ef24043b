package schedule

import (
	"time"

	"github.com/mailmon/mailmon/internal/config"
)

// NextWindow is the earliest of a monitor's maintenance windows (as
// InMaintenance reads them) that starts after now and before now+within:
// its start and end; ok false when none does.
func NextWindow(ws []config.Window, now time.Time, within time.Duration) (start, end time.Time, ok bool) {
	consider := func(s, e time.Time) {
		if s.After(now) && s.Before(now.Add(within)) && (!ok || s.Before(start)) {
			start, end, ok = s, e, true
		}
	}
	for _, w := range ws {
		if len(w.Days) == 0 {
			s, err1 := time.Parse(time.RFC3339, w.Start)
			e, err2 := time.Parse(time.RFC3339, w.End)
			if err1 == nil && err2 == nil {
				consider(s, e)
			}
			continue
		}
		at, err := time.Parse("15:04", w.Start)
		if err != nil {
			continue
		}
		local := now.Local()
		for ahead := 0; ahead <= 7; ahead++ {
			day := local.AddDate(0, 0, ahead)
			if hasDay(w.Days, day.Weekday()) {
				s := time.Date(day.Year(), day.Month(), day.Day(), at.Hour(), at.Minute(), 0, 0, time.Local)
				consider(s, s.Add(w.Duration.D()))
			}
		}
	}
	return start, end, ok
}
