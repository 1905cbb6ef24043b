package sqlstore

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store/storetest"
)

// TestResultJSON: a result is stored byte for byte as json.Marshal wrote
// it before, whatever the server said (HTML, control characters, invalid
// UTF-8, U+2028), so that every reader reads it as before.
func TestResultJSON(t *testing.T) {
	at := time.Date(2026, 12, 6, 9, 47, 58, 633448904, time.FixedZone("CET", 3600))
	odd := "S: 554 <mx> \"no\" & \\ go\x01 away \xff\xfe é\u2028\u2029"
	results := []*probe.Result{{}}
	for _, kind := range storetest.SampleKinds {
		results = append(results, storetest.SampleResult(kind, at, 3))
	}
	failed := storetest.SampleResult("starttls", at, 4)
	failed.Status, failed.Delivery, failed.Warnings, failed.Auth = probe.StatusDown, 1500*time.Microsecond, []string{odd}, "PLAIN"
	failed.Error = &probe.Error{Code: probe.Timeout, Message: odd, Detail: odd, Phase: "tls", Reply: odd}
	failed.Transcript = append(failed.Transcript, odd)
	failed.Details["nested"] = map[string]any{"z": []any{1.5, nil, true, odd}, "a": odd}
	results = append(results, failed)
	for _, r := range results {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := resultJSON(r)
		if err != nil || string(got) != string(want) {
			t.Errorf("%s %s:\n got %s %v\nwant %s", r.Type, r.Status, got, err, want)
		}
	}
}
