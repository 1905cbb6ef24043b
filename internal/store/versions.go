package store

import (
	"context"
	"time"
)

// MonitorVersions is what a store may offer besides Config: every
// monitor's id and the time of its last change, without reading its
// settings. The engine looks for changed monitors every few seconds; with
// 20,000 monitors, listing them in full each time cost about a tenth of
// the daemon's CPU (and 1.4 KB of garbage per monitor per look).
type MonitorVersions interface {
	MonitorVersions(ctx context.Context) (map[int64]time.Time, error)
	// MonitorsFingerprint sums up the monitors' ids and versions in one
	// value that changes when a monitor is added, changed or deleted,
	// computed inside the database: an unchanged fingerprint spares the
	// row-by-row MonitorVersions (at 100,000 monitors that still took a
	// fifth of the daemon's CPU).
	MonitorsFingerprint(ctx context.Context) (Fingerprint, error)
}

// Fingerprint is MonitorsFingerprint's value.
type Fingerprint struct {
	Count                  int64
	MaxID, SumID           int64
	MaxUpdated, SumUpdated int64 // Unix milliseconds
}
