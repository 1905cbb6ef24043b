package store

import (
	"context"
	"time"
)

// MonitorVersions is what a store may offer besides Config: every
// monitor's id and the time of its last change, without reading its
// settings, and how often the settings the engine loads were written. The
// engine looks for changed monitors every few seconds; with 20,000
// monitors, listing them in full each time cost about a tenth of the
// daemon's CPU (and 1.4 KB of garbage per monitor per look).
type MonitorVersions interface {
	MonitorVersions(ctx context.Context) (map[int64]time.Time, error)
	// ConfigChanges reads the counts of writes to the monitors, the
	// devices and the credentials, kept by the database in each writing
	// transaction whoever writes: one row, whatever the number of
	// monitors. While they are the counts of the last look, nothing the
	// engine loaded changed, and it reads nothing more (at 100,000
	// monitors a look that summed up the monitors' versions in the
	// database and compared each credential's still took 4 % of the
	// daemon's CPU).
	ConfigChanges(ctx context.Context) (Changes, error)
}

// Changes are ConfigChanges' counts: each grows with every transaction
// that inserts, updates or deletes its table's rows (at each row on
// SQLite, once a transaction on PostgreSQL), but for a monitor's board
// rank, which its tests write. Only whether a count moved means anything.
type Changes struct {
	Monitors, Devices, Credentials int64
}
