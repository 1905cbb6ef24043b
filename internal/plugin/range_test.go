package plugin

import (
	"math"
	"strings"
	"testing"
)

// TestRange: every form of the Monitoring Plugins guidelines' range
// syntax, its bounds (inclusive: a value on an end does not alert) and
// "@" inversion, and how it is echoed into perfdata.
func TestRange(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		in         string
		start, end float64
		inside     bool
		str        string
		alert      []float64 // values that raise the alert
		quiet      []float64 // values that do not
	}{
		{"10", 0, 10, false, "10", []float64{-0.5, 10.001, 11}, []float64{0, 5, 10}},
		{"10:", 10, inf, false, "10:", []float64{-1, 0, 9.99}, []float64{10, 11, 1e9}},
		{"~:10", -inf, 10, false, "~:10", []float64{10.001, 100}, []float64{-1e9, 0, 10}},
		{"10:20", 10, 20, false, "10:20", []float64{9.999, 20.001, 0}, []float64{10, 15, 20}},
		{"@10:20", 10, 20, true, "@10:20", []float64{10, 15, 20}, []float64{9.999, 20.001}},
		{"@10", 0, 10, true, "@0:10", []float64{0, 10}, []float64{-1, 10.5}},
		{"@~:5", -inf, 5, true, "@~:5", []float64{-3, 5}, []float64{5.1}},
		{"0.5", 0, 0.5, false, "0.5", []float64{0.501}, []float64{0.5}},
		{"1.5:", 1.5, inf, false, "1.5:", []float64{1.4}, []float64{1.5}},
		{"-5:5", -5, 5, false, "-5:5", []float64{-5.1, 5.1}, []float64{-5, 5}},
		{"500ms", 0, 0.5, false, "0.5", []float64{0.6}, []float64{0.4}}, // a time may carry its unit
		{"2s:1m", 2, 60, false, "2:60", []float64{1, 61}, []float64{2, 60}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ParseRange(tt.in, parseSeconds)
			if err != nil {
				t.Fatal(err)
			}
			if r.Start != tt.start || r.End != tt.end || r.Inside != tt.inside || r.IsZero() {
				t.Errorf("got %+v, want %v..%v inside %v", r, tt.start, tt.end, tt.inside)
			}
			if got := r.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			for _, v := range tt.alert {
				if !r.Alert(v) {
					t.Errorf("%v does not raise the alert", v)
				}
			}
			for _, v := range tt.quiet {
				if r.Alert(v) {
					t.Errorf("%v raises the alert", v)
				}
			}
			// What String writes reads back as the same range.
			back, err := ParseRange(r.String(), number)
			if err != nil || back != r {
				t.Errorf("%q reads back as %+v, %v", r.String(), back, err)
			}
		})
	}
}

func TestRangeErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":      "is not a range",
		"@":     "is not a range",
		"abc":   "the end",
		"~":     "the end",
		"20:10": "the start is above the end",
		"x:10":  "the start",
		"10:y":  "the end",
		"NaN":   "the end",
		"1:inf": "the end",
	} {
		_, err := ParseRange(in, parseSeconds)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", in, err, want)
		}
	}
	var none Range
	if !none.IsZero() || none.Alert(1e9) || none.String() != "" {
		t.Error("the zero Range alerts or prints")
	}
}

// TestCertDays: check_smtp's -D WARN[,CRIT].
func TestCertDays(t *testing.T) {
	for in, want := range map[string]certDays{"30": {30, 0}, "30,14": {30, 14}, "0": {0, 0}, " 21 , 7": {21, 7}} {
		var c certDays
		if err := c.Set(in); err != nil || c != want {
			t.Errorf("%q: %+v, %v; want %+v", in, c, err, want)
		}
	}
	for _, in := range []string{"", "x", "30,", "-1", "30,y"} {
		var c certDays
		if err := c.Set(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}
