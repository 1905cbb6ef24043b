package sqlstore

import (
	"strconv"

	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/wire"
)

// appendStatusJSON appends s as json.Marshal writes it, byte for byte
// (the stored monitor_status.status), without reflection: encoding/json
// was ~1.5% of serve's CPU at 20,000 monitors, half of it this, once a
// test. TestStatusJSON holds it to json.Marshal.
func appendStatusJSON(b []byte, s state.Status) ([]byte, error) {
	b = append(b, `{"State":`...)
	b = wire.AppendJSONString(b, string(s.State))
	b = append(b, `,"Since":`...)
	b, err := wire.AppendJSONTime(b, s.Since)
	if err != nil {
		return nil, err
	}
	b = append(b, `,"Failures":`...)
	b = strconv.AppendInt(b, int64(s.Failures), 10)
	b = append(b, `,"Warnings":`...)
	b = strconv.AppendInt(b, int64(s.Warnings), 10)
	b = append(b, `,"AlertsSent":`...)
	b = strconv.AppendInt(b, int64(s.AlertsSent), 10)
	b = append(b, `,"WarnAlert":`...)
	b = strconv.AppendBool(b, s.WarnAlert)
	b = append(b, `,"History":`...)
	b = strconv.AppendUint(b, uint64(s.History), 10)
	b = append(b, `,"Results":`...)
	b = strconv.AppendInt(b, int64(s.Results), 10)
	b = append(b, `,"Flapping":`...)
	b = strconv.AppendBool(b, s.Flapping)
	b = append(b, `,"Suppressed":`...)
	b = wire.AppendJSONString(b, s.Suppressed)
	if !s.Outage.IsZero() {
		b = append(b, `,"Outage":`...)
		if b, err = wire.AppendJSONTime(b, s.Outage); err != nil {
			return nil, err
		}
	}
	if len(s.Escalated) > 0 {
		b = append(b, `,"Escalated":[`...)
		for i, id := range s.Escalated {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, id, 10)
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}
