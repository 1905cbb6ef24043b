package engine

import (
	"testing"
	"time"
)

func TestLatencyHistogram(t *testing.T) {
	var l latency
	if s := l.snapshot(); s.Count != 0 || s.Buckets[5] != 0 || len(s.Buckets) != len(StoreBuckets) {
		t.Fatalf("empty: %+v", s)
	}
	for _, d := range []time.Duration{200 * time.Microsecond, time.Millisecond, 3 * time.Millisecond, 10 * time.Second} {
		l.observe(d)
	}
	s := l.snapshot()
	want := map[float64]uint64{0.0005: 1, 0.001: 2, 0.0025: 2, 0.005: 3, 5: 3}
	for ub, n := range want {
		if s.Buckets[ub] != n {
			t.Errorf("le=%v: %d, want %d", ub, s.Buckets[ub], n)
		}
	}
	if s.Count != 4 || s.Sum < 10.004 || s.Sum > 10.0043 {
		t.Errorf("count %d sum %v", s.Count, s.Sum)
	}
}
