package config

import (
	"strings"
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestWeeklyAcrossDST: weekly hours are wall-clock hours in their zone,
// on either side of Europe/Berlin's changes of 2026 (the clocks go forward
// on 29 March at 02:00, back on 25 October at 03:00).
func TestWeeklyAcrossDST(t *testing.T) {
	office := Weekly{Zone: "Europe/Berlin", Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "08:00", To: "18:00"}
	night := Weekly{Zone: "Europe/Berlin", Days: []string{"sat"}, From: "22:00", To: "06:00"} // Saturday night into Sunday
	sunday := Weekly{Zone: "Europe/Berlin", Days: []string{"sun"}, From: "01:00", To: "04:00"}
	for _, tc := range []struct {
		name string
		w    Weekly
		at   string
		want bool
	}{
		// Friday before the spring change: CET, UTC+1.
		{"fri 07:59 CET", office, "2026-03-27T06:59:00Z", false},
		{"fri 08:00 CET", office, "2026-03-27T07:00:00Z", true},
		{"fri 17:59 CET", office, "2026-03-27T16:59:00Z", true},
		{"fri 18:00 CET", office, "2026-03-27T17:00:00Z", false},
		{"sun noon", office, "2026-03-29T11:00:00Z", false},
		// Monday after: CEST, UTC+2; 08:00 is 06:00 UTC now.
		{"mon 07:59 CEST", office, "2026-03-30T05:59:00Z", false},
		{"mon 08:00 CEST", office, "2026-03-30T06:00:00Z", true},
		{"mon 17:59 CEST", office, "2026-03-30T15:59:00Z", true},
		{"mon 18:00 CEST", office, "2026-03-30T16:00:00Z", false},
		// Monday after the autumn change: CET again.
		{"mon 26 Oct 07:30 CET", office, "2026-10-26T06:30:00Z", false},
		{"mon 26 Oct 08:00 CET", office, "2026-10-26T07:00:00Z", true},
		{"mon 26 Oct 18:30 CET", office, "2026-10-26T17:30:00Z", false},
		// The night of the spring change: 22:00 CET to 06:00 CEST is 7 h.
		{"sat 21:59 CET", night, "2026-03-28T20:59:00Z", false},
		{"sat 22:00 CET", night, "2026-03-28T21:00:00Z", true},
		{"sun 05:59 CEST", night, "2026-03-29T03:59:00Z", true},
		{"sun 06:00 CEST", night, "2026-03-29T04:00:00Z", false},
		// The night of the autumn change: 22:00 CEST to 06:00 CET is 9 h.
		{"sat 24 Oct 22:00 CEST", night, "2026-10-24T20:00:00Z", true},
		{"sun 02:30 CET (the second time)", night, "2026-10-25T01:30:00Z", true},
		{"sun 06:00 CET", night, "2026-10-25T05:00:00Z", false},
		{"sun 05:59 CET", night, "2026-10-25T04:59:00Z", true},
		// 01:00–04:00 on the day that skips 02:00–03:00: two real hours.
		{"29 Mar 00:59 CET", sunday, "2026-03-28T23:59:00Z", false},
		{"29 Mar 01:00 CET", sunday, "2026-03-29T00:00:00Z", true},
		{"29 Mar 03:59 CEST", sunday, "2026-03-29T01:59:00Z", true},
		{"29 Mar 04:00 CEST", sunday, "2026-03-29T02:00:00Z", false},
		// … and four on the day that repeats 02:00–03:00.
		{"25 Oct 01:00 CEST", sunday, "2026-10-24T23:00:00Z", true},
		{"25 Oct 03:59 CET", sunday, "2026-10-25T02:59:00Z", true},
		{"25 Oct 04:00 CET", sunday, "2026-10-25T03:00:00Z", false},
	} {
		if got := tc.w.Contains(utc(tc.at)); got != tc.want {
			t.Errorf("%s: %v.Contains(%s) = %v, want %v", tc.name, tc.w, tc.at, got, tc.want)
		}
	}
}

// TestWeeklyNextStart: when held notifications go out.
func TestWeeklyNextStart(t *testing.T) {
	office := Weekly{Zone: "Europe/Berlin", Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "08:00", To: "18:00"}
	for _, tc := range []struct{ at, want string }{
		{"2026-03-27T18:00:00Z", "2026-03-30T06:00:00Z"}, // Friday evening (CET) to Monday 08:00 CEST
		{"2026-10-23T17:00:00Z", "2026-10-26T07:00:00Z"}, // Friday evening (CEST) to Monday 08:00 CET
		{"2026-10-26T07:00:00Z", "2026-10-27T07:00:00Z"}, // at a start: the next one
		{"2026-10-26T06:59:00Z", "2026-10-26T07:00:00Z"},
	} {
		if got := office.NextStart(utc(tc.at)); !got.Equal(utc(tc.want)) {
			t.Errorf("NextStart(%s) = %s, want %s", tc.at, got.UTC().Format(time.RFC3339), tc.want)
		}
	}
	if got := (Weekly{Zone: "Nowhere/Land", From: "08:00", To: "18:00"}).NextStart(utc("2026-10-26T06:59:00Z")); !got.IsZero() {
		t.Errorf("a zone that does not load starts at %v, want never", got)
	}
}

// TestEscalateAndScheduleValidation: mistakes named by their field in the
// YAML's words, with the fix.
func TestEscalateAndScheduleValidation(t *testing.T) {
	f := File{
		Alerts: []Alert{
			{Name: "chat", Webhook: &Webhook{URL: SecretRef{Value: "https://h.example/x"}},
				Escalate: &Escalation{After: Duration(30 * time.Second), To: []string{"pagr", "chat"}},
				Schedule: &Schedule{Zone: "Europe/Berln", Days: []string{"mon", "thurs"}, From: "8am", To: "18:00", Outside: "keep"}},
			{Name: "pager", Webhook: &Webhook{URL: SecretRef{Value: "https://h.example/y"}},
				Schedule: &Schedule{Zone: "Local", From: "08:00", To: "08:00"}},
		},
		Devices: []Device{{Name: "d", Address: "d.example", Monitors: []Monitor{{Name: "m", Type: "tcp", Port: 25,
			Notify: Notify{Alerts: []string{"chat"}, Escalate: &Escalation{After: Duration(time.Hour)}}}}}},
	}
	var got []string
	for _, e := range f.Validate() {
		got = append(got, e.Path+": "+e.Msg)
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		`alerts[0].escalate.after: must be at least 1m0s`,
		`alerts[0].escalate.to[0]: no alert is named "pagr"; did you mean "pager"?`,
		`alerts[0].escalate.to[1]: "chat" escalates to itself`,
		`alerts[0].schedule.zone: "Europe/Berln" is not an IANA time zone (like Europe/Berlin`,
		`alerts[0].schedule.days[1]: "thurs" is not a day (mon, tue, wed, thu, fri, sat, sun); did you mean "thu"?`,
		`alerts[0].schedule.from: "8am" is not a time of day (HH:MM, like "08:00")`,
		`alerts[0].schedule.outside: "keep" is not drop or hold`,
		`alerts[1].schedule.zone: "Local" is not allowed`,
		`alerts[1].schedule.to: is the same as from`,
		`devices[0].monitors[0].notify.escalate.to: name at least one alert to notify (like to: [pager])`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in:\n%s", want, all)
		}
	}
}
