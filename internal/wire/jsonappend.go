package wire

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// The appenders below write a value as encoding/json writes it, byte for
// byte, without reflection and into the caller's buffer: a daemon encodes
// a result and a status for every test (the stores, /probe). What they do
// not write themselves (text that needs escaping, a time MarshalJSON
// would refuse) goes through encoding/json, so that the bytes are its
// own whatever the text.

// AppendJSONString appends s quoted as encoding/json quotes it: plain
// printable ASCII as is, anything else through encoding/json.
func AppendJSONString(b []byte, s string) []byte {
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

// AppendJSONTime appends t as time.Time's MarshalJSON does: RFC 3339
// with nanoseconds, quoted; a time it would refuse or write otherwise (a
// year beyond 9999, an odd zone offset) goes through it.
func AppendJSONTime(b []byte, t time.Time) ([]byte, error) {
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

// AppendJSONFloat appends f as encoding/json writes a float64 (ES6's
// number to string: %f, or %e with an unpadded exponent for the very
// small and very large); NaN and the infinities, which it refuses, go
// through it for its error.
func AppendJSONFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		_, err := json.Marshal(f)
		return nil, err
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1] // e-09 → e-9
		b = b[:n-1]
	}
	return b, nil
}
