package main

import "testing"

// TestPeaksKeepTheMinutesHighest: a minute's peaks are the highest of its
// polls, and the next minute's start from nothing.
func TestPeaksKeepTheMinutesHighest(t *testing.T) {
	var p peaks
	p.add(10, 50, 3)
	p.add(900, 1200, 2)
	p.add(20, 30, 64)
	if p99, mx, wal := p.take(); p99 != 900 || mx != 1200 || wal != 64 {
		t.Errorf("first minute: %v, %v, %v; want 900, 1200, 64", p99, mx, wal)
	}
	p.add(5, 6, 7)
	if p99, mx, wal := p.take(); p99 != 5 || mx != 6 || wal != 7 {
		t.Errorf("second minute: %v, %v, %v; want 5, 6, 7", p99, mx, wal)
	}
}
