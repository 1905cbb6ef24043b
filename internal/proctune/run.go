package proctune

import (
	"context"
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/metrics"
	"time"
)

// Overridden reports whether the environment sets GOMAXPROCS: the
// operator's choice, which the tuner leaves alone.
func Overridden() bool { return os.Getenv("GOMAXPROCS") != "" }

// minWaits is the fewest waits for a P a window must have seen for its
// p99 to say anything (the runtime times one goroutine switch in eight).
const minWaits = 50

// Run tunes GOMAXPROCS with p until ctx ends, measuring every `every` over
// the last `window`; it starts at the runtime's default and leaves the
// runtime's default in place when it returns. It returns at once, doing
// nothing, when Overridden, when the default is one P, or where the
// process's CPU time cannot be read.
//
// Busy is the process's CPU time (getrusage), not the runtime's
// /cpu/classes metrics: those are brought up to date only when a garbage
// collection ends, which with gctune's headroom can be minutes apart.
func Run(ctx context.Context, p Policy, every, window time.Duration, log *slog.Logger) {
	bound := runtime.GOMAXPROCS(0)
	if Overridden() || bound <= 1 {
		return
	}
	if _, ok := processCPU(); !ok {
		return
	}
	t := NewTuner(p, bound, bound)
	changed := false
	defer func() {
		if changed {
			// Calling runtime.GOMAXPROCS turned the runtime's own updates
			// (to a changed CPU limit) off; this turns them on again.
			runtime.SetDefaultGOMAXPROCS()
		}
	}()
	m := newMeter()
	span := max(int(window/every), 1)
	ring := make([]reading, 0, span+1)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		r := m.read(time.Now())
		if len(ring) == span+1 {
			ring = append(ring[:0], ring[1:]...)
		}
		ring = append(ring, r)
		if len(ring) < span+1 {
			continue
		}
		s := between(ring[0], r)
		log.Debug("GOMAXPROCS window", "procs", t.Procs(), "busy_cores", math.Round(s.Busy*100)/100, "wait_p99", s.Wait.Round(time.Microsecond))
		before := t.Procs()
		want := t.Next(s)
		if want == before {
			continue
		}
		from := runtime.GOMAXPROCS(0) // the runtime may have moved its default since
		if want == 1 {
			runtime.GOMAXPROCS(1)
		} else {
			runtime.SetDefaultGOMAXPROCS()
		}
		changed = true
		log.Info("GOMAXPROCS changed", "from", from, "to", runtime.GOMAXPROCS(0),
			"busy_cores", math.Round(s.Busy*100)/100, "wait_p99", s.Wait.Round(time.Microsecond))
		// The next window measures the new setting only.
		ring = append(ring[:0], r)
	}
}

// reading is the process's cumulative counters at one moment.
type reading struct {
	at    time.Time
	cpu   time.Duration // the process's CPU time, user and system
	waits []uint64      // the counts of /sched/latencies:seconds
	edges []float64     // its buckets' boundaries (shared, never changed)
}

// between is the sample of the window from a to b.
func between(a, b reading) Sample {
	s := Sample{At: b.at}
	if wall := b.at.Sub(a.at); wall > 0 {
		s.Busy = float64(b.cpu-a.cpu) / float64(wall)
	}
	if len(a.waits) == len(b.waits) {
		s.Wait = p99(a.waits, b.waits, b.edges)
	}
	return s
}

// p99 is the 99th percentile of the waits counted between a and b,
// interpolated within its bucket (the runtime's are a quarter of a power
// of two wide: 16.8, 21.0, 25.2 ms …), an unbounded bucket read as its
// finite edge; 0 when too few were counted.
func p99(a, b []uint64, edges []float64) time.Duration {
	var total uint64
	for i := range b {
		total += b[i] - a[i]
	}
	if total < minWaits {
		return 0
	}
	need := total - total/100
	var seen uint64
	for i := range b {
		n := b[i] - a[i]
		if seen+n < need {
			seen += n
			continue
		}
		lo, hi := edges[i], edges[i+1]
		switch {
		case math.IsInf(lo, -1):
			lo = min(hi, 0)
		case math.IsInf(hi, 1):
			hi = lo
		}
		at := lo + (hi-lo)*float64(need-seen)/float64(n)
		return time.Duration(at * float64(time.Second))
	}
	return 0
}

// meter reads the counters a reading holds.
type meter struct {
	sample []metrics.Sample
}

func newMeter() *meter {
	return &meter{sample: []metrics.Sample{{Name: "/sched/latencies:seconds"}}}
}

func (m *meter) read(now time.Time) reading {
	r := reading{at: now}
	r.cpu, _ = processCPU()
	metrics.Read(m.sample)
	if v := m.sample[0].Value; v.Kind() == metrics.KindFloat64Histogram {
		h := v.Float64Histogram()
		r.waits = append([]uint64(nil), h.Counts...)
		r.edges = h.Buckets
	}
	return r
}
