package sqlstore

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/state"
)

// TestStatusJSON: the status is stored byte for byte as encoding/json
// wrote it before, so that nothing stored changes and every reader (and
// PostgreSQL's jsonb-free text column) reads it as before.
func TestStatusJSON(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	for _, s := range []state.Status{
		{},
		{State: state.Up, Since: time.Unix(1700000000, 123456789).UTC(), Results: 5},
		{State: state.Down, Since: time.Date(2026, 12, 6, 4, 5, 6, 0, paris), Failures: 3, Warnings: 2, AlertsSent: 1,
			WarnAlert: true, History: 1<<32 - 1, Results: 20, Flapping: true, Suppressed: "dependency",
			Outage: time.Date(2026, 12, 6, 4, 0, 0, 1, time.UTC), Escalated: []int64{3, 1 << 40, -2}},
		{State: state.Lost, Escalated: []int64{}, Suppressed: `a "quoted" <b> & \ back` + "\n\x01é\u2028"},
		{State: state.State("wé\"ird"), Outage: time.Time{}.Add(time.Nanosecond)},
		{State: state.Up, Since: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("odd", 3600+30))},
	} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendStatusJSON(nil, s)
		if err != nil || string(got) != string(want) {
			t.Errorf("%+v:\n got %s %v\nwant %s", s, got, err, want)
		}
	}
	if _, err := appendStatusJSON(nil, state.Status{Since: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Error("a year json.Marshal refuses was encoded")
	}
}

// BenchmarkStatusJSON: a passing monitor's status, as each test stores it.
func BenchmarkStatusJSON(b *testing.B) {
	s := state.Status{State: state.Up, Since: time.Now(), Results: 20}
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			json.Marshal(s)
		}
	})
	b.Run("appendStatusJSON", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			appendStatusJSON(make([]byte, 0, 256), s)
		}
	})
}
