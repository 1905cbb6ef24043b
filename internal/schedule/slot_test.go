package schedule

import (
	"slices"
	"testing"
	"time"
)

// TestSlotFollowsTestOrder: monitors of intervals that line up with the
// minute are in slot order as they are due (Spread from the top of a
// minute), and no two monitors share a slot, whatever their intervals.
func TestSlotFollowsTestOrder(t *testing.T) {
	minute := time.Unix(1_700_000_040, 0) // a whole minute since the epoch
	if minute.UnixNano()%int64(time.Minute) != 0 {
		t.Fatal("not the top of a minute")
	}
	intervals := []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, time.Hour}
	type due struct {
		id   int64
		at   time.Duration // into the minute
		slot int64
	}
	var all []due
	seen := map[int64]int64{}
	for id := int64(1); id <= 5000; id++ {
		iv := intervals[id%int64(len(intervals))]
		at := Spread(id, iv, minute).Sub(minute) % time.Minute
		s := Slot(id, iv)
		if other, ok := seen[s]; ok {
			t.Fatalf("monitors %d and %d share slot %d", other, id, s)
		}
		seen[s] = id
		all = append(all, due{id, at.Truncate(time.Millisecond), s})
		// Other intervals: unique still.
		for _, odd := range []time.Duration{0, 45 * time.Second, 90 * time.Second} {
			if o := Slot(id, odd); o != s {
				if other, ok := seen[o]; ok && other != id {
					t.Fatalf("monitor %d every %v: slot %d is monitor %d's", id, odd, o, other)
				}
			}
		}
	}
	slices.SortFunc(all, func(a, b due) int {
		if a.slot < b.slot {
			return -1
		}
		return 1
	})
	for i := 1; i < len(all); i++ {
		if all[i].at < all[i-1].at {
			t.Fatalf("monitor %d (slot %d) is due %v into the minute, before monitor %d (slot %d) at %v",
				all[i].id, all[i].slot, all[i].at, all[i-1].id, all[i-1].slot, all[i-1].at)
		}
	}
	if Slot(7, 0) != 7 || Slot(1<<slotIDBits, time.Minute) >= 0 {
		t.Errorf("Slot(7, 0) = %d, Slot(2^47, 1m) = %d", Slot(7, 0), Slot(1<<slotIDBits, time.Minute))
	}
}
