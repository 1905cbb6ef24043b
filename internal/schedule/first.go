package schedule

import (
	"cmp"
	"slices"
	"time"
)

// The first tests of monitors never tested (every monitor at a new
// daemon's first start, or after a large apply while it was stopped),
// which the engine's Load places with FirstSlots and FirstAt.
//
// A monitor's first result creates its status and state change and moves
// its board rank (its row in monitors and both board indexes), and the
// writer commits up to 64 results a transaction (the SQLite store's
// group.go). Taken at their places by id (a hash), each first result
// dirtied leaves of its own in those trees: 6.7 pages written a result at
// 100,000 monitors, four times a later test's; neighbours by id share
// them (monitors are numbered as applied, by device and name): 4.1 in id
// order.
//
// Straight id order, though, tests a device's monitors one after the
// other: at 100,000 monitors in a minute, a device of 100 monitors on one
// server within 60 ms, more connections at once than Postfix takes from
// one client by default (smtpd_client_connection_count_limit, 50). So the
// monitors start in blocks of FirstBlock neighbours by id, the blocks in
// the order of their numbers divided by the golden ratio, modulo 1 (a
// Kronecker sequence): blocks next to each other by id start at least a
// fifth of the window apart, and blocks next in time are at least a fifth
// of the blocks apart by id; at 100,000 monitors a device of 100 has at
// most one block among any 64 consecutive slots (TestFirstSlots). A server
// sees at most a block's tests of one device at once; a writer's group is
// about four blocks of neighbours.

// FirstBlock is how many neighbours by id start one after the other.
const FirstBlock = 16

// golden is 2^64 divided by the golden ratio: b*golden, wrapping, is
// 2^64 times the fraction of b/φ.
const golden = 0x9E3779B97F4A7C15

// FirstSlots places n monitors never tested, in the order of their ids:
// slots[k] is the kth's slot among total (FirstAt(slots[k], total, …)).
// Slots past n are left empty (a last block shorter than FirstBlock).
func FirstSlots(n int) (slots []int, total int) {
	blocks := (n + FirstBlock - 1) / FirstBlock
	order := make([]int, blocks) // the blocks in the order they start
	for b := range order {
		order[b] = b
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(uint64(a)*golden, uint64(b)*golden) })
	at := make([]int, blocks) // a block's place in that order
	for place, b := range order {
		at[b] = place
	}
	slots = make([]int, n)
	for k := range slots {
		slots[k] = at[k/FirstBlock]*FirstBlock + k%FirstBlock
	}
	return slots, blocks * FirstBlock
}

// FirstAt is when the kth of n slots starts, within spread: at its share
// of it, k/n.
func FirstAt(k, n int, spread time.Duration) time.Duration {
	return time.Duration(float64(spread) * float64(k) / float64(n))
}
