// Package phase places a monitor in time: its offset in its interval (a
// hash of its id, counted from the Unix epoch), by which the scheduler
// tests it, and its slot, by which the stores keep its status. A leaf
// (the standard library only), so that the stores can import it.
package phase

import (
	"fmt"
	"hash/fnv"
	"time"
)

// Offset is monitor id's place in interval: FNV-64a of its decimal id,
// modulo the interval. The scheduler tests the monitor when the time
// since the Unix epoch, modulo the interval, is its offset.
func Offset(id int64, interval time.Duration) time.Duration {
	h := fnv.New64a()
	fmt.Fprint(h, id)
	return time.Duration(h.Sum64() % uint64(interval))
}

// slotIDBits is the width of the id in a slot; the phase (milliseconds
// into the minute, < 2^16) fills the bits above it, 16 + 47 = 63.
const slotIDBits = 47

// Slot is monitor id's place in test order, for a monitor tested every
// interval: its phase in the minute (its offset, counted from the Unix
// epoch, modulo a minute, in milliseconds) above its id. A store keeps
// the monitors' statuses in slot order (migration 00018), so that the
// statuses one group commit writes, tested together, are neighbours.
//
// A minute because it is the default interval and every multiple of it
// lines up: a monitor tested every 2 or 5 minutes is tested at the same
// phase in its minute; monitors of other intervals come out unordered
// but in place. Slots are unique: two monitors differ in their ids, kept
// whole in the low bits (ids ≥ 2^47, which no store assigns, get -id:
// unique still, and apart from the others). An interval of 0 or less
// gives the id.
func Slot(id int64, interval time.Duration) int64 {
	if id < 0 || id >= 1<<slotIDBits {
		return -id
	}
	if interval <= 0 {
		return id
	}
	phase := Offset(id, interval) % time.Minute
	return int64(phase/time.Millisecond)<<slotIDBits | id
}
