package schedule

import (
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
)

// InMaintenance reports whether now falls in maintenance begun by hand
// that ends at until (zero: none; see Until), or in one of a monitor's
// maintenance windows: a one-off window from start to end (RFC 3339), or a
// weekly one that starts at HH:MM on its days and lasts its duration, in
// the daemon's local time zone. A window that does not parse is never in
// effect (validation reports it).
func InMaintenance(ws []config.Window, until, now time.Time) bool {
	if now.Before(until) {
		return true
	}
	for _, w := range ws {
		if len(w.Days) == 0 {
			s, err1 := time.Parse(time.RFC3339, w.Start)
			e, err2 := time.Parse(time.RFC3339, w.End)
			if err1 == nil && err2 == nil && !now.Before(s) && now.Before(e) {
				return true
			}
			continue
		}
		at, err := time.Parse("15:04", w.Start)
		if err != nil {
			continue
		}
		local := now.Local()
		// A window that started on one of its days, up to a week ago.
		for back := 0; back <= 7; back++ {
			day := local.AddDate(0, 0, -back)
			if !hasDay(w.Days, day.Weekday()) {
				continue
			}
			start := time.Date(day.Year(), day.Month(), day.Day(), at.Hour(), at.Minute(), 0, 0, time.Local)
			if !local.Before(start) && local.Before(start.Add(w.Duration.D())) {
				return true
			}
		}
	}
	return false
}

// Until is the end of the maintenance begun by hand that covers a monitor
// of a device (zero: none; see Covering).
func Until(ms []store.MaintenanceNow, monitorID, deviceID int64) time.Time {
	if m := Covering(ms, monitorID, deviceID); m != nil {
		return m.Until
	}
	return time.Time{}
}

// Covering is the maintenance begun by hand of ms that covers a monitor of
// a device, the monitor's own or its device's, whichever ends later (a
// device's alone for monitor 0); nil: none.
func Covering(ms []store.MaintenanceNow, monitorID, deviceID int64) *store.MaintenanceNow {
	var found *store.MaintenanceNow
	for i, m := range ms {
		if (m.MonitorID != 0 && m.MonitorID == monitorID || m.DeviceID != 0 && m.DeviceID == deviceID) && (found == nil || m.Until.After(found.Until)) {
			found = &ms[i]
		}
	}
	return found
}

func hasDay(days []string, wd time.Weekday) bool {
	name := strings.ToLower(wd.String()[:3])
	for _, d := range days {
		if strings.ToLower(d) == name {
			return true
		}
	}
	return false
}
