package phase_test

import (
	"slices"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/schedule"
	"github.com/mailmon/mailmon/internal/schedule/phase"
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
		at := schedule.Spread(id, iv, minute).Sub(minute) % time.Minute
		s := phase.Slot(id, iv)
		if other, ok := seen[s]; ok {
			t.Fatalf("monitors %d and %d share slot %d", other, id, s)
		}
		seen[s] = id
		all = append(all, due{id, at.Truncate(time.Millisecond), s})
		// Other intervals: unique still.
		for _, odd := range []time.Duration{0, 45 * time.Second, 90 * time.Second} {
			if o := phase.Slot(id, odd); o != s {
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
	if phase.Slot(7, 0) != 7 || phase.Slot(1<<47, time.Minute) >= 0 {
		t.Errorf("phase.Slot(7, 0) = %d, phase.Slot(2^47, 1m) = %d", phase.Slot(7, 0), phase.Slot(1<<47, time.Minute))
	}
}
