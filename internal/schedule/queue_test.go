package schedule

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestQueueOrder adds, moves (earlier and later) and removes monitors at
// random through the scheduler's own Add and Remove, then takes every job:
// they come out in due-time order, each due time the last Add gave it, and
// every job's index is its place while queued.
func TestQueueOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	s := New(nil, 1, nil)
	want := map[int64]time.Duration{}
	for range 20_000 {
		id := rng.Int64N(2_000) + 1
		if rng.IntN(5) == 0 {
			s.Remove(id)
			delete(want, id)
			continue
		}
		due := s.epoch.Add(time.Duration(rng.Int64N(int64(time.Hour))))
		s.Add(id, due, time.Second)
		want[id] = s.since(due)
	}
	for i, e := range s.queue {
		if e.j.index != i || e.at != e.j.at {
			t.Fatalf("queue[%d]: job's index %d, entry's at %v, job's at %v", i, e.j.index, e.at, e.j.at)
		}
	}
	var got []time.Duration
	for len(s.queue) > 0 {
		j := s.queue.pop()
		if j.at != want[j.id] {
			t.Fatalf("monitor %d due at %v, its last Add said %v", j.id, j.at, want[j.id])
		}
		delete(want, j.id)
		got = append(got, j.at)
	}
	if len(want) != 0 {
		t.Fatalf("%d monitors added and not removed never came out of the queue", len(want))
	}
	if !slices.IsSorted(got) {
		t.Fatal("jobs came out of the queue out of due-time order")
	}
}
