// Package gctune gives a long-running daemon a floor of heap headroom.
//
// With the runtime's default (GOGC=100) the heap may grow to twice what
// survived the last collection before the next one starts. A daemon whose
// live heap is small but which allocates briskly (every test allocates its
// connection's buffers, a TLS handshake about 140 KB) then collects very
// often, and each collection marks the whole live heap again: measured on
// "mailmon serve" answering /probe for SMTP banners, the collector took
// about a fifth of the CPU. Giving the heap a fixed headroom above the live
// data, rather than a proportion of it, makes collections rare while the
// heap is small and leaves the runtime's own proportional rule in charge
// once it is large:
//
//	next collection at  live + max(live, Headroom)
//
// It costs at most Headroom of extra memory.
//
// The runtime is left alone when the user set GOGC or GOMEMLIMIT: they know
// their machine better.
package gctune

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// DefaultHeadroom is the heap allowed above the live data before a
// collection, while the live data is smaller than it.
const DefaultHeadroom = 64 << 20

// Bounds of the percentage set: never below the runtime's default, and
// not so high that a heap with almost nothing live is never collected.
const (
	minPercent = 100
	maxPercent = 2000
)

// Percent is the GOGC value that puts the next collection at
// live + max(live, headroom).
func Percent(live, headroom uint64) int {
	if live == 0 {
		return maxPercent
	}
	p := headroom * 100 / live
	return int(min(max(p, minPercent), maxPercent))
}

// Overridden reports whether the environment sets the collector's policy.
func Overridden() bool {
	return os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != ""
}

// Run keeps the collector's percentage at Percent(live heap, headroom),
// looking every interval, until ctx ends; then it restores the percentage
// it found. It returns at once, doing nothing, when Overridden.
func Run(ctx context.Context, headroom uint64, every time.Duration) {
	if Overridden() {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return sample[0].Value.Uint64()
	}
	current := Percent(read(), headroom)
	before := debug.SetGCPercent(current)
	defer debug.SetGCPercent(before)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Only a change of a tenth or more is worth telling the runtime.
		if p := Percent(read(), headroom); p*10 < current*9 || p*10 > current*11 {
			debug.SetGCPercent(p)
			current = p
		}
	}
}

// BatchPercent is the collector's percentage for a command that builds
// its data once and holds most of it to its end ("mailmon apply": the
// file's monitors): the heap may grow half the live data above it rather
// than all of it. Measured at 100,000 monitors, it cut apply's peak RSS
// from 294 to 242 MiB; the collector's share of apply's CPU (1-2 %)
// about doubles.
const BatchPercent = 50

// Batch sets the collector's percentage to BatchPercent and returns the
// function that restores it. It does nothing when Overridden.
func Batch() (restore func()) {
	if Overridden() {
		return func() {}
	}
	before := debug.SetGCPercent(BatchPercent)
	return func() { debug.SetGCPercent(before) }
}
