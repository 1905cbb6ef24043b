package engine

import (
	"sync"
	"time"
)

// StoreBuckets are the upper bounds, in seconds, of the store latency
// histogram: from a fast SQLite commit (~0.1 ms) to a database in trouble.
var StoreBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// StoreLatency is a histogram of the time store operations took since
// start, for /metrics: cumulative counts by bucket upper bound.
type StoreLatency struct {
	Count   uint64
	Sum     float64 // seconds
	Buckets map[float64]uint64
}

// latency accumulates one operation's histogram.
type latency struct {
	mu     sync.Mutex
	count  uint64
	sum    float64
	counts []uint64 // per bucket, not cumulative; the last is +Inf
}

func (l *latency) observe(d time.Duration) {
	s := d.Seconds()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts == nil {
		l.counts = make([]uint64, len(StoreBuckets)+1)
	}
	i := 0
	for i < len(StoreBuckets) && s > StoreBuckets[i] {
		i++
	}
	l.counts[i]++
	l.count++
	l.sum += s
}

func (l *latency) snapshot() StoreLatency {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := StoreLatency{Count: l.count, Sum: l.sum, Buckets: make(map[float64]uint64, len(StoreBuckets))}
	var cum uint64
	for i, ub := range StoreBuckets {
		if l.counts != nil {
			cum += l.counts[i]
		}
		out.Buckets[ub] = cum
	}
	return out
}

// StoreLatencies returns, by operation, how long the engine's store
// operations took: "record_test" is the transaction that stores a test with
// its state change and notifications.
func (e *Engine) StoreLatencies() map[string]StoreLatency {
	return map[string]StoreLatency{"record_test": e.recordLat.snapshot()}
}
