package alert

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := newLimiter(time.Second, 3)
	t0 := time.Unix(0, 0)
	for i := 0; i < 3; i++ {
		if !l.allow(1, t0) {
			t.Fatalf("burst refused at %d", i)
		}
	}
	if l.allow(1, t0) {
		t.Error("a fourth notification passed in the same instant")
	}
	if !l.allow(2, t0) {
		t.Error("another action shares the first one's bucket")
	}
	if l.allow(1, t0.Add(500*time.Millisecond)) || !l.allow(1, t0.Add(time.Second)) {
		t.Error("the rate is not one a second")
	}
	if n := countAllowed(l, 1, t0.Add(time.Hour)); n != 3 {
		t.Errorf("after a long pause the burst is %d, want 3", n)
	}
}

func countAllowed(l *limiter, id int64, at time.Time) int {
	n := 0
	for l.allow(id, at) {
		n++
	}
	return n
}
