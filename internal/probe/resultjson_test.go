package probe

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// oldResultJSON is how MarshalJSON wrote a result before AppendJSON:
// json.Marshal of a jsonResult. AppendJSON must write the same bytes.
func oldResultJSON(r *Result) ([]byte, error) {
	j := jsonResult{
		Type: r.Type, Target: r.Target, Status: r.Status, RTTMS: ms(r.RTT),
		Time: r.Started.UTC().Format(time.RFC3339Nano), Error: r.Error, Warnings: r.Warnings,
		TLS: r.TLS, Auth: r.Auth, Details: r.Details, Transcript: r.Transcript,
		Phases: make([]jsonPhase, len(r.Phases)),
	}
	if r.TLSMode != "" {
		j.TLSMode = r.TLSMode
	}
	for i, p := range r.Phases {
		j.Phases[i] = jsonPhase{p.Name, ms(p.Duration)}
	}
	if r.Delivery > 0 {
		d := ms(r.Delivery)
		j.DeliveryMS = &d
	}
	return json.Marshal(j)
}

// odd is server text that encoding/json escapes every way it can: HTML,
// quotes, control characters, invalid UTF-8, U+2028 and U+2029.
const odd = "S: 554 <mx> \"no\" & \\ go\x01\b\f\n\r\t away \x7f \xff\xfe é\u2028\u2029"

func sampleResults() []*Result {
	at := time.Date(2026, 12, 6, 9, 47, 58, 633448904, time.FixedZone("CET", 3600))
	banner := &Result{Type: "smtp", Target: "mx1.example.net:25", Status: StatusUp, Started: at, TLSMode: TLSNone,
		RTT:    1234567 * time.Nanosecond,
		Phases: []Phase{{"connect", 740 * time.Microsecond}, {"greeting", 61 * time.Microsecond}, {"capabilities", 250 * time.Microsecond}, {"quit", 0}},
		Details: map[string]any{"greeting": "220 mx1.example.net ESMTP Postfix", "size_limit": 10240000, "banner_bytes": int64(33),
			"extensions": []string{"PIPELINING", "SIZE", "STARTTLS"}, "preauth": true, "loss_percent": 12.5},
		Transcript: []string{"-- connected to 192.0.2.1:25", "S: 220 mx1.example.net ESMTP Postfix", "C: EHLO mailmon", "S: 250 SIZE"}}
	starttls := *banner
	starttls.TLSMode = TLSStartTLS
	starttls.TLS = &TLSInfo{Version: "TLS1.3", Cipher: "TLS_AES_128_GCM_SHA256", CertSubject: "CN=mx1.example.net", CertIssuer: "CN=CA",
		CertNotBefore: at.Add(-24 * time.Hour).Truncate(time.Second).UTC(), CertNotAfter: at.Add(399 * 24 * time.Hour).Truncate(time.Second),
		DaysLeft: 399, CertNames: []string{"mx1.example.net", "127.0.0.1"}, Verified: true}
	failed := starttls
	failed.Status, failed.Delivery, failed.Warnings, failed.Auth = StatusDown, 1500*time.Microsecond, []string{odd, "second"}, "PLAIN"
	failed.Error = &Error{Code: Timeout, Message: odd, Detail: odd, Phase: "tls", Reply: odd}
	failed.TLS = &TLSInfo{Version: odd, NameMismatch: odd, DaysLeft: -3}
	failed.Transcript = append(append([]string(nil), failed.Transcript...), odd)
	failed.Details = map[string]any{"nested": map[string]any{"z": []any{1.5, nil, true, odd}, "a": odd}, odd: odd,
		"tiny": 1e-7, "huge": 1e21, "neg": -0.000123, "nil": nil, "none": []string(nil), "empty": []string{},
		"tls": &TLSInfo{CertNames: []string{odd}}, "u8": uint8(7), "f32": float32(0.1)}
	warned := Result{Type: "ping", Target: "192.0.2.1", Status: StatusWarn, Warnings: []string{"rtt"}, Phases: []Phase{}}
	return []*Result{{}, banner, &starttls, &failed, &warned}
}

// TestResultAppendJSON: AppendJSON writes what json.Marshal wrote before, byte
// for byte, for every field and whatever the server said; and through
// json.Marshal (a result within another object) as well.
func TestResultAppendJSON(t *testing.T) {
	for _, r := range sampleResults() {
		want, err := oldResultJSON(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.MarshalJSON()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s %s:\n got %s %v\nwant %s", r.Type, r.Status, got, err, want)
		}
		if nested, err := json.Marshal(r); err != nil || !bytes.Equal(nested, want) {
			t.Errorf("json.Marshal(%s %s):\n got %s %v\nwant %s", r.Type, r.Status, nested, err, want)
		}
	}
}

// TestResultJSONRefuses: what json.Marshal refused (a NaN detail) is
// refused still.
func TestResultJSONRefuses(t *testing.T) {
	for _, v := range []any{math.NaN(), math.Inf(1), map[string]any{"c": make(chan int)}} {
		r := &Result{Details: map[string]any{"x": v}}
		if _, err := oldResultJSON(r); err == nil {
			t.Fatalf("%v: the old encoder took it", v)
		}
		if b, err := r.MarshalJSON(); err == nil {
			t.Errorf("%v: encoded as %s", v, b)
		}
	}
}

// TestResultJSONAllocations: a passing STARTTLS test's result is encoded
// in one allocation, its buffer (json.Marshal took a dozen and more).
func TestResultJSONAllocations(t *testing.T) {
	r := sampleResults()[2]
	r.Details = map[string]any{"greeting": "220 mx1.example.net ESMTP Postfix", "size_limit": 10240000,
		"extensions": []string{"PIPELINING", "SIZE", "STARTTLS"}}
	if n := testing.AllocsPerRun(100, func() { r.MarshalJSON() }); n > 1 {
		t.Errorf("%v allocations to encode a result, want 1", n)
	}
}

func FuzzResultJSON(f *testing.F) {
	f.Add("smtp", "mx:25", odd, "220 hi", int64(1234567), int64(-5), 2.5, int64(1700000000), 4, uint8(0))
	f.Add("", "", "", "", int64(0), int64(0), 0.0, int64(0), 0, uint8(255))
	f.Fuzz(func(t *testing.T, typ, target, s1, s2 string, d1, d2 int64, fl float64, unix int64, n int, flags uint8) {
		at := time.Unix(unix, d1).In(time.FixedZone("z", int(d2%86400)))
		r := &Result{Type: typ, Target: target, Status: Status(s2), Started: at, RTT: time.Duration(d1),
			Phases: []Phase{{s1, time.Duration(d2)}, {s2, time.Duration(d1)}}, Auth: s2, TLSMode: TLSMode(s1),
			Delivery: time.Duration(d2), Transcript: []string{s1, s2}, Warnings: []string{s2},
			Details: map[string]any{s1: s2, s2: fl, "n": n, "d": d1, "b": flags&1 == 0, "l": []string{s1}}}
		if flags&2 != 0 {
			r.Error = &Error{Code: Code(s1), Message: s2, Detail: s1, Phase: s2, Reply: s1}
		}
		if flags&4 != 0 {
			r.TLS = &TLSInfo{Version: s1, Cipher: s2, CertSubject: s1, CertNotBefore: at, CertNotAfter: at.Add(time.Duration(d2)),
				DaysLeft: n, CertNames: []string{s2}, NameMismatch: s1, Verified: flags&8 != 0}
		}
		if flags&16 != 0 {
			r.Details, r.Transcript, r.Phases, r.Warnings = nil, nil, nil, nil
		}
		want, werr := oldResultJSON(r)
		got, gerr := r.MarshalJSON()
		if (werr == nil) != (gerr == nil) || !bytes.Equal(got, want) {
			t.Errorf("got %s %v\nwant %s %v", got, gerr, want, werr)
		}
	})
}

// BenchmarkResultJSON: a passing STARTTLS test's result, as the stores
// encode it for every test (old: json.Marshal of jsonResult, as before).
func BenchmarkResultJSON(b *testing.B) {
	r := sampleResults()[2]
	for _, c := range []struct {
		name string
		enc  func(*Result) ([]byte, error)
	}{{"old", oldResultJSON}, {"append", (*Result).MarshalJSON}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.enc(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
