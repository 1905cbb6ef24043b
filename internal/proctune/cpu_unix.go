//go:build unix

package proctune

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used, user and system, on
// every thread.
func processCPU() (time.Duration, bool) {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0, false
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano()), true
}
