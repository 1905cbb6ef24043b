package store

import (
	"context"

	"github.com/mailmon/mailmon/internal/state"
)

// States is what a store may offer besides Store: every stored status's
// state in one read, in the order the store keeps them. The engine's
// load at start read the statuses a page of monitors at a time, by
// monitor id; since migration 00018 SQLite keeps them in test order
// (their slots), so a page's statuses lay scattered over the whole table
// and the load read each from a page of its own: at 100,000 monitors
// tested once, 42 instead of 33 µs of CPU a monitor (BenchmarkLoad
// -load.tested); one pass in table order, the states alone, 27.
type States interface {
	// States is the state of each monitor that has a status.
	States(ctx context.Context) (map[int64]state.Status, error)
}
