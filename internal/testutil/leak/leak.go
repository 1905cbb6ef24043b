// Package leak checks that a test leaves no goroutine or file descriptor
// behind.
package leak

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// Check records the goroutines and open file descriptors now and, at
// cleanup, fails the test if more remain after a short grace period. Call it
// before starting the test's servers, so their cleanup runs first.
func Check(t testing.TB) {
	t.Helper()
	g0, f0 := runtime.NumGoroutine(), fds()
	t.Cleanup(func() {
		var g, f int
		for deadline := time.Now().Add(2 * time.Second); ; {
			g, f = runtime.NumGoroutine(), fds()
			if g <= g0 && f <= f0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if g > g0 {
			buf := make([]byte, 1<<16)
			n := runtime.Stack(buf, true)
			t.Errorf("goroutines: %d before, %d after\n%s", g0, g, buf[:n])
		}
		if f > f0 {
			t.Errorf("open file descriptors: %d before, %d after", f0, f)
		}
	})
}

func fds() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(ents)
}
