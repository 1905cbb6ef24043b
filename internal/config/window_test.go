package config

import (
	"reflect"
	"testing"
	"time"
)

// TestWindowText: a window written on one line (the web UI's form) reads
// back as it was, zone and end included.
func TestWindowText(t *testing.T) {
	for _, c := range []struct {
		text string
		w    Window
	}{
		{"2026-12-24T18:00:00Z 2026-12-27T08:00:00Z", Window{Start: "2026-12-24T18:00:00Z", End: "2026-12-27T08:00:00Z"}},
		{"sun 03:00 1h", Window{Days: []string{"sun"}, Start: "03:00", Duration: Duration(time.Hour)}},
		{"sun 03:00 1h30m Europe/Berlin", Window{Days: []string{"sun"}, Start: "03:00", Duration: Duration(90 * time.Minute), Zone: "Europe/Berlin"}},
		{"sat,sun 23:00-01:00", Window{Days: []string{"sat", "sun"}, Start: "23:00", End: "01:00"}},
		{"sat 23:00-01:00 America/New_York", Window{Days: []string{"sat"}, Start: "23:00", End: "01:00", Zone: "America/New_York"}},
	} {
		if got := c.w.Text(); got != c.text {
			t.Errorf("Text of %+v: %q, want %q", c.w, got, c.text)
		}
		w, err := ParseWindowText(c.text)
		if err != nil || !reflect.DeepEqual(w, c.w) {
			t.Errorf("ParseWindowText(%q): %+v %v, want %+v", c.text, w, err, c.w)
		}
	}
	for _, bad := range []string{"sun 03:00", "sun 03:00 soon", "sun 03:00-04:00 Europe/Berlin extra", "just-one"} {
		if _, err := ParseWindowText(bad); err == nil {
			t.Errorf("ParseWindowText(%q) took it", bad)
		}
	}
}
