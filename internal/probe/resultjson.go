package probe

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/mailmon/mailmon/internal/wire"
)

// AppendJSON appends the result object documented in docs/monitors.md,
// byte for byte what json.Marshal wrote of jsonResult (TestResultAppendJSON
// and FuzzResultJSON hold it to that), without reflection: the stores
// encode a result for every test, and json.Marshal's map and struct
// walking was a dozen allocations of each (BenchmarkTestPath).
// Details' values of a type it does not write itself go through
// encoding/json.
func (r *Result) AppendJSON(b []byte) ([]byte, error) {
	var err error
	b = append(b, `{"type":`...)
	b = wire.AppendJSONString(b, r.Type)
	b = append(b, `,"target":`...)
	b = wire.AppendJSONString(b, r.Target)
	b = append(b, `,"status":`...)
	b = wire.AppendJSONString(b, string(r.Status))
	b = append(b, `,"time":"`...)
	b = r.Started.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","rtt_ms":`...)
	if b, err = wire.AppendJSONFloat(b, ms(r.RTT)); err != nil {
		return nil, err
	}
	b = append(b, `,"phases":[`...)
	for i, p := range r.Phases {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = wire.AppendJSONString(b, p.Name)
		b = append(b, `,"ms":`...)
		if b, err = wire.AppendJSONFloat(b, ms(p.Duration)); err != nil {
			return nil, err
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	if e := r.Error; e != nil {
		b = append(b, `,"error":{"code":`...)
		b = wire.AppendJSONString(b, string(e.Code))
		b = append(b, `,"message":`...)
		b = wire.AppendJSONString(b, e.Message)
		b = appendOptString(b, `,"detail":`, e.Detail)
		b = appendOptString(b, `,"phase":`, e.Phase)
		b = appendOptString(b, `,"reply":`, e.Reply)
		b = append(b, '}')
	}
	if len(r.Warnings) > 0 {
		b = appendStrings(append(b, `,"warnings":`...), r.Warnings)
	}
	b = appendOptString(b, `,"tls_mode":`, string(r.TLSMode))
	if r.TLS != nil {
		if b, err = r.TLS.appendJSON(append(b, `,"tls":`...)); err != nil {
			return nil, err
		}
	}
	b = appendOptString(b, `,"auth_mechanism":`, r.Auth)
	if r.Delivery > 0 {
		if b, err = wire.AppendJSONFloat(append(b, `,"delivery_ms":`...), ms(r.Delivery)); err != nil {
			return nil, err
		}
	}
	if len(r.Details) > 0 {
		if b, err = appendDetails(append(b, `,"details":`...), r.Details); err != nil {
			return nil, err
		}
	}
	if len(r.Transcript) > 0 {
		b = appendStrings(append(b, `,"transcript":`...), r.Transcript)
	}
	return append(b, '}'), nil
}

// jsonSize is about the length of r's JSON: the buffer MarshalJSON
// starts with, so that it is rarely grown.
func (r *Result) jsonSize() int {
	n := 256 + 40*len(r.Phases) + 24*len(r.Details)
	if r.TLS != nil {
		n += 320
	}
	for _, l := range r.Transcript {
		n += len(l) + 3
	}
	for _, w := range r.Warnings {
		n += len(w) + 3
	}
	if e := r.Error; e != nil {
		n += 64 + len(e.Message) + len(e.Detail) + len(e.Reply)
	}
	return n
}

func (t *TLSInfo) appendJSON(b []byte) ([]byte, error) {
	var err error
	b = append(b, `{"version":`...)
	b = wire.AppendJSONString(b, t.Version)
	b = append(b, `,"cipher":`...)
	b = wire.AppendJSONString(b, t.Cipher)
	b = appendOptString(b, `,"cert_subject":`, t.CertSubject)
	b = appendOptString(b, `,"cert_issuer":`, t.CertIssuer)
	if !t.CertNotBefore.IsZero() {
		if b, err = wire.AppendJSONTime(append(b, `,"cert_not_before":`...), t.CertNotBefore); err != nil {
			return nil, err
		}
	}
	if !t.CertNotAfter.IsZero() {
		if b, err = wire.AppendJSONTime(append(b, `,"cert_not_after":`...), t.CertNotAfter); err != nil {
			return nil, err
		}
	}
	b = strconv.AppendInt(append(b, `,"days_left":`...), int64(t.DaysLeft), 10)
	if len(t.CertNames) > 0 {
		b = appendStrings(append(b, `,"cert_names":`...), t.CertNames)
	}
	b = appendOptString(b, `,"name_mismatch":`, t.NameMismatch)
	b = strconv.AppendBool(append(b, `,"verified":`...), t.Verified)
	return append(b, '}'), nil
}

// appendOptString appends key and s unless s is empty (omitempty).
func appendOptString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return wire.AppendJSONString(append(b, key...), s)
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = wire.AppendJSONString(b, s)
	}
	return append(b, ']')
}

// appendDetails appends the details object, its keys sorted as
// encoding/json sorts a map's.
func appendDetails(b []byte, d map[string]any) ([]byte, error) {
	var buf [16]string
	keys := buf[:0]
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(wire.AppendJSONString(b, k), ':')
		var err error
		if b, err = appendDetail(b, d[k]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendDetail appends one detail's value: the plain types the probes
// record written here, any other through encoding/json.
func appendDetail(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return wire.AppendJSONString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case float64:
		return wire.AppendJSONFloat(b, v)
	case []string:
		if v == nil {
			return append(b, "null"...), nil
		}
		return appendStrings(b, v), nil
	}
	q, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, q...), nil
}
