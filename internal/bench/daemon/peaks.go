package main

import (
	"fmt"
	"sync"
	"time"
)

// peaks keeps the highest of what is polled every second in a minute: the
// scheduler's lag (p99 and max over serve's last 4,096 tests, which the
// run's end alone would show, missing a stall at start: the janitor's
// first pass) and the WAL file's size (the minute's end alone misses what
// a long write grew it to).
type peaks struct {
	mu                  sync.Mutex
	lagP99, lagMax, wal float64 // ms, ms, MiB
	// runP99 and runMax are the highest of the whole run, never reset:
	// the report's worst-second lag.
	runP99, runMax float64
}

// add takes a poll's figures.
func (p *peaks) add(lagP99, lagMax, walMiB float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lagP99, p.lagMax, p.wal = max(p.lagP99, lagP99), max(p.lagMax, lagMax), max(p.wal, walMiB)
	p.runP99, p.runMax = max(p.runP99, lagP99), max(p.runMax, lagMax)
}

// worst returns the run's highest lag p99 and max polled.
func (p *peaks) worst() (lagP99, lagMax float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.runP99, p.runMax
}

// take returns the minute's peaks and starts the next minute's.
func (p *peaks) take() (lagP99, lagMax, walMiB float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	lagP99, lagMax, walMiB = p.lagP99, p.lagMax, p.wal
	p.lagP99, p.lagMax, p.wal = 0, 0, 0
	return
}

// poll adds status() and wal() every second until stop is closed.
func (p *peaks) poll(status func() (lagP99, lagMax float64, err error), wal func() float64, stop <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		p99, mx, err := status()
		if err != nil {
			p99, mx = 0, 0
		}
		p.add(p99, mx, wal())
	}
}

// String is a minute's line of peaks.
func (p *peaks) String() string {
	p99, mx, wal := p.take()
	return fmt.Sprintf("lag p99 peak %.1f ms, lag max peak %.1f ms, WAL peak %.1f MiB (polled each second)", p99, mx, wal)
}
