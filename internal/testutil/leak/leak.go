// Package leak checks that a test leaves no goroutine or file descriptor
// behind.
package leak

import (
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

// pollerOnce starts the runtime's network poller, whose descriptors (an
// epoll and an event fd on Linux) stay open for the life of the process
// once the first connection or listener opens them.
var pollerOnce sync.Once

// Check records the goroutines and open file descriptors now and, at
// cleanup, fails the test if more remain after a short grace period. Call it
// before starting the test's servers, so their cleanup runs first.
func Check(t testing.TB) {
	t.Helper()
	// Not counted as the test's: the first test of a process to use the
	// network would otherwise leave the poller's two behind.
	pollerOnce.Do(func() {
		if l, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
			l.Close()
		}
	})
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
