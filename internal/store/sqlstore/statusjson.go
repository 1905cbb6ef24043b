package sqlstore

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/mailmon/mailmon/internal/state"
)

// appendStatusJSON appends s as json.Marshal writes it, byte for byte
// (the stored monitor_status.status), without reflection: encoding/json
// was ~1.5% of serve's CPU at 20,000 monitors, half of it this, once a
// test. TestStatusJSON holds it to json.Marshal.
func appendStatusJSON(b []byte, s state.Status) ([]byte, error) {
	b = append(b, `{"State":`...)
	b = appendJSONString(b, string(s.State))
	b = append(b, `,"Since":`...)
	b, err := appendJSONTime(b, s.Since)
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
	b = appendJSONString(b, s.Suppressed)
	if !s.Outage.IsZero() {
		b = append(b, `,"Outage":`...)
		if b, err = appendJSONTime(b, s.Outage); err != nil {
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

// appendJSONString appends s quoted as encoding/json quotes it: plain
// printable ASCII as is, anything else through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONTime appends t as time.Time's MarshalJSON does: RFC 3339
// with nanoseconds, quoted; a time it would refuse or write otherwise (a
// year beyond 9999, an odd zone offset) goes through it.
func appendJSONTime(b []byte, t time.Time) ([]byte, error) {
	if _, off := t.Zone(); t.Year() < 0 || t.Year() > 9999 || off%60 != 0 || off <= -24*3600 || off >= 24*3600 {
		q, err := t.MarshalJSON()
		if err != nil {
			return nil, err
		}
		return append(b, q...), nil
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}
