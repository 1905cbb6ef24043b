package main

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailmon/mailmon/internal/bench/farm"
)

// sample is what one check cost, as far as the tool tells.
type sample struct {
	reported time.Duration // the latency the tool reports
	cpu      float64       // CPU seconds the check alone cost (forked plug-ins), else 0
	rssMiB   float64       // the check's own peak RSS (forked plug-ins), else 0
}

// outcome is what a load run saw in its measuring window.
type outcome struct {
	ok, errs  int
	firstErr  string
	p50, p99  time.Duration // reported latencies
	childCPU  float64       // summed sample.cpu
	childRSS  float64       // largest sample.rssMiB
	window    time.Duration
	latencies []time.Duration
	lateP99   time.Duration // paced: how late the checks started (pace.go)
}

// load runs fn in workers goroutines: warmup first, then the measuring
// window, which onStart and onEnd bracket (to read a process's CPU).
func load(workers int, warmup, window time.Duration, fn func() (sample, error), onStart, onEnd func()) outcome {
	var phase atomic.Int32 // 0 warm-up, 1 measuring, 2 done
	var mu sync.Mutex
	var out outcome
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			ok, errs, cpu, rss, first := 0, 0, 0.0, 0.0, ""
			for {
				p := phase.Load()
				if p == 2 {
					break
				}
				s, err := fn()
				if phase.Load() != 1 || p != 1 {
					continue // started or ended outside the window
				}
				if err != nil {
					errs++
					if first == "" {
						first = err.Error()
					}
					continue
				}
				ok++
				lat = append(lat, s.reported)
				cpu += s.cpu
				rss = max(rss, s.rssMiB)
			}
			mu.Lock()
			out.ok += ok
			out.errs += errs
			out.childCPU += cpu
			out.childRSS = max(out.childRSS, rss)
			out.latencies = append(out.latencies, lat...)
			if out.firstErr == "" {
				out.firstErr = first
			}
			mu.Unlock()
		}()
	}
	time.Sleep(warmup)
	if onStart != nil {
		onStart()
	}
	start := time.Now()
	phase.Store(1)
	time.Sleep(window)
	phase.Store(2)
	out.window = time.Since(start)
	if onEnd != nil {
		onEnd()
	}
	wg.Wait()
	out.p50 = farm.Percentile(out.latencies, 50)
	out.p99 = farm.Percentile(out.latencies, 99)
	return out
}
