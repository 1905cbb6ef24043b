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

// TestWorstOutlivesTheMinute: the run's worst lag is kept when a minute's
// peaks are taken.
func TestWorstOutlivesTheMinute(t *testing.T) {
	var p peaks
	p.add(6300, 9000, 64)
	p.take()
	p.add(20, 40, 33)
	if p99, mx := p.worst(); p99 != 6300 || mx != 9000 {
		t.Errorf("worst after a minute was taken: p99 %v, max %v; want 6300, 9000", p99, mx)
	}
}
