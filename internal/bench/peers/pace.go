package main

import (
	"sync"
	"time"

	"github.com/mailmon/mailmon/internal/bench/farm"
)

// pace is when the i-th check starts, from the first, at rate checks a
// second evenly spread, as a scheduler spreads monitors of one interval.
func pace(rate float64, i int) time.Duration {
	return time.Duration(float64(i) * float64(time.Second) / rate)
}

// paced starts fn(i) at rate checks a second (pace), each in its own
// goroutine, as mailmon's scheduler starts tests: the process wakes for
// every check and idles between them, where load's workers never idle.
// The warm-up comes first; the checks started in the window are counted
// (and waited for), and onStart and onEnd bracket the window.
func paced(rate float64, warmup, window time.Duration, fn func(i int) (sample, error), onStart, onEnd func()) outcome {
	var (
		mu  sync.Mutex
		out outcome
		wg  sync.WaitGroup
	)
	t0 := time.Now()
	var wstart time.Time
	var late []time.Duration
	sleepUntil := func(at time.Duration) {
		if d := time.Until(t0.Add(at)); d > 0 {
			time.Sleep(d)
		}
	}
	for i := 0; ; i++ {
		at := pace(rate, i)
		if at >= warmup+window {
			break
		}
		if at >= warmup && wstart.IsZero() {
			sleepUntil(warmup)
			onStart()
			wstart = time.Now()
		}
		sleepUntil(at) // late: started at once, as a scheduler catches up
		inWindow := !wstart.IsZero()
		if inWindow {
			late = append(late, time.Since(t0.Add(at)))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := fn(i)
			if !inWindow {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				out.errs++
				if out.firstErr == "" {
					out.firstErr = err.Error()
				}
				return
			}
			out.ok++
			out.latencies = append(out.latencies, s.reported)
		}()
	}
	if wstart.IsZero() { // no check fell in the window
		sleepUntil(warmup)
		onStart()
		wstart = time.Now()
	}
	sleepUntil(warmup + window)
	onEnd()
	out.window = time.Since(wstart)
	wg.Wait()
	out.p50 = farm.Percentile(out.latencies, 50)
	out.p99 = farm.Percentile(out.latencies, 99)
	out.lateP99 = farm.Percentile(late, 99)
	return out
}
