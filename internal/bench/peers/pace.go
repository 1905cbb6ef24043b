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
// The warm-up comes first. The window is the time from warmup to
// warmup+window after the first start, which onStart and onEnd bracket
// on their own clock; the checks whose time falls in it are counted (and
// waited for). A child behind its pace shows in lateP99.
func paced(rate float64, warmup, window time.Duration, fn func(i int) (sample, error), onStart, onEnd func()) outcome {
	var (
		mu   sync.Mutex
		out  outcome
		wg   sync.WaitGroup
		late []time.Duration
	)
	t0 := time.Now()
	sleepUntil := func(at time.Duration) {
		if d := time.Until(t0.Add(at)); d > 0 {
			time.Sleep(d)
		}
	}
	bracketed := make(chan time.Duration)
	go func() {
		sleepUntil(warmup)
		onStart()
		start := time.Now()
		sleepUntil(warmup + window)
		onEnd()
		bracketed <- time.Since(start)
	}()
	for i := 0; ; i++ {
		at := pace(rate, i)
		if at >= warmup+window {
			break
		}
		sleepUntil(at) // late: started at once, as a scheduler catches up
		inWindow := at >= warmup
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
	out.window = <-bracketed
	wg.Wait()
	out.p50 = farm.Percentile(out.latencies, 50)
	out.p99 = farm.Percentile(out.latencies, 99)
	out.lateP99 = farm.Percentile(late, 99)
	return out
}
