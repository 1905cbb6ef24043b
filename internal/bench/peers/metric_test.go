package main

import "testing"

func TestMetric(t *testing.T) {
	body := []byte("# HELP probe_success x\n# TYPE probe_success gauge\nprobe_success 1\n" +
		"probe_duration_seconds_total 9\nprobe_duration_seconds 0.0123\nprobe_phase_duration_seconds{phase=\"tls\"} 0.5")
	for _, c := range []struct {
		name string
		want float64
	}{
		{"probe_success", 1},
		{"probe_duration_seconds", 0.0123},
		{"probe_phase_duration_seconds", -1}, // labelled: not this function's
		{"probe_missing", -1},
	} {
		if got := metric(body, c.name); got != c.want {
			t.Errorf("metric(%s) = %v, want %v", c.name, got, c.want)
		}
	}
	if got := metric([]byte("probe_success 0"), "probe_success"); got != 0 {
		t.Errorf("last line without newline: %v", got)
	}
}
