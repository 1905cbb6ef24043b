package schedule

import (
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
)

// InMaintenance reports whether now falls in maintenance begun by hand
// that ends at until (zero: none; see Until), or in one of the windows
// (a monitor's and its device's): a one-off window from start to end (RFC
// 3339), or a weekly one (WindowRange) in its zone. A window that does not
// parse is never in effect (validation reports it).
func InMaintenance(ws []config.Window, until, now time.Time) bool {
	if now.Before(until) {
		return true
	}
	for _, w := range ws {
		if r, ok := WindowRange(w); ok {
			if r.Contains(now) {
				return true
			}
			continue
		}
		s, err1 := time.Parse(time.RFC3339, w.Start)
		e, err2 := time.Parse(time.RFC3339, w.End)
		if err1 == nil && err2 == nil && !now.Before(s) && now.Before(e) {
			return true
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
