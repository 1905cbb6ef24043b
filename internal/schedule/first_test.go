package schedule

import (
	"slices"
	"testing"
	"time"
)

// TestFirstSlots: every monitor gets a slot of its own below total; a
// block's neighbours by id take consecutive slots; consecutive blocks
// start at least a fifth of the blocks apart, and blocks in consecutive
// places are at least a fifth of the blocks apart by id. At 100,000
// monitors, a device of 100 (neighbours by id) has at most a block's
// monitors among any 64 consecutive slots (a writer's group, 38 ms at
// 1,667 tests a second); in id order it had 64.
func TestFirstSlots(t *testing.T) {
	for n := 0; n <= 3000; n++ {
		slots, total := FirstSlots(n)
		blocks := total / FirstBlock
		if len(slots) != n || total < n || total >= n+FirstBlock {
			t.Fatalf("FirstSlots(%d): %d slots of %d", n, len(slots), total)
		}
		seen := make([]bool, total)
		place := make([]int, blocks) // a block's place in time
		for k, s := range slots {
			if s < 0 || s >= total || seen[s] {
				t.Fatalf("FirstSlots(%d): monitor %d at slot %d (total %d, taken before: %v)", n, k, s, total, s >= 0 && s < total && seen[s])
			}
			seen[s] = true
			if k%FirstBlock > 0 && s != slots[k-1]+1 {
				t.Fatalf("FirstSlots(%d): monitor %d at slot %d, the one before it in its block at %d", n, k, s, slots[k-1])
			}
			place[k/FirstBlock] = s / FirstBlock
		}
		byPlace := make([]int, blocks)
		for b, p := range place {
			byPlace[p] = b
		}
		for b := 1; b < blocks; b++ {
			if d := abs(place[b] - place[b-1]); 5*d < blocks {
				t.Fatalf("FirstSlots(%d): blocks %d and %d %d places apart, under a fifth of %d", n, b-1, b, d, blocks)
			}
			if d := abs(byPlace[b] - byPlace[b-1]); 5*d < blocks {
				t.Fatalf("FirstSlots(%d): blocks at places %d and %d %d blocks apart by id, under a fifth of %d", n, b-1, b, d, blocks)
			}
		}
	}

	const n, device, group = 100_000, 100, 64
	slots, total := FirstSlots(n)
	for first := 0; first+device <= n; first += 7 { // a device may begin anywhere
		at := slices.Clone(slots[first : first+device])
		slices.Sort(at)
		for i := range at {
			j := i
			for j < len(at) && at[j] < at[i]+group {
				j++
			}
			if j-i > FirstBlock {
				t.Fatalf("device of monitors %d–%d: %d of them among slots %d–%d (of %d), want at most %d", first, first+device-1, j-i, at[i], at[i]+group-1, total, FirstBlock)
			}
		}
	}
}

func abs(x int) int { return max(x, -x) }

// TestFirstAt: the kth of n at its share of the spread, the first at
// once, none at its end; no overflow for a day's interval.
func TestFirstAt(t *testing.T) {
	for _, c := range []struct {
		k, n   int
		spread time.Duration
		want   time.Duration
	}{
		{0, 1, time.Minute, 0},
		{1, 4, time.Minute, 15 * time.Second},
		{99_999, 100_000, time.Minute, time.Minute - 600*time.Microsecond},
		{999_999, 1_000_000, 24 * time.Hour, 24*time.Hour - 86400*time.Microsecond},
	} {
		if got := FirstAt(c.k, c.n, c.spread); got != c.want {
			t.Errorf("FirstAt(%d, %d, %v) = %v, want %v", c.k, c.n, c.spread, got, c.want)
		}
	}
}
